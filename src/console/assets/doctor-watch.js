// The connection doctor's watch (console/server-pages/doctor.ts): asks the server every two seconds
// for events newer than the last one shown and adds them to the table, so a person sees each step
// of a client's retry as it happens. Served from our own origin (CSP script-src 'self', no inline
// script); without it the page's "Refresh" link shows the same thing. Plain ES2017, no build step.
(function () {
  'use strict';
  var table = document.querySelector('[data-watch-url]');
  if (!table) return;
  var body = table.querySelector('tbody');
  var status = document.querySelector('[data-testid="watch-status"]');
  var after = Number(table.getAttribute('data-after') || '0');

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
  }

  function add(event) {
    var row = document.createElement('tr');
    row.setAttribute('data-testid', 'event');
    row.setAttribute('data-kind', event.kind);
    row.setAttribute('data-ok', event.ok ? 'yes' : 'no');
    cell(row, event.when);
    cell(row, event.step);
    cell(row, event.ok ? 'ok' : 'failed');
    cell(row, event.clientId || '—');
    cell(row, event.details);
    body.appendChild(row);
  }

  function poll() {
    fetch(table.getAttribute('data-watch-url') + '?after=' + after, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : { events: [] }; })
      .then(function (answer) {
        answer.events.forEach(function (event) { add(event); after = Math.max(after, event.id); });
        if (status && answer.events.length) status.textContent = answer.events.length + ' new event(s)';
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
