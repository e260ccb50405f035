/** JSON columns: absent values are SQL NULL, both ways. */
export const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
export const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
