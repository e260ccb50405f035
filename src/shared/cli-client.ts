/**
 * The public client every Portcullis server has pre-registered for its CLI and the device-login
 * kit (device flow, no secret): the server's side (authz/clients.ts) and the kit's default
 * client id (sdk/device-login) are the same string by construction.
 */
export const CLI_CLIENT_ID = 'portcullis-cli';
