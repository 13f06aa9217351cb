import { WartaError } from '../errors.js';

/** One person to invite, as the file names them; the invitation rules judge the values later. */
export interface InvitationCsvRow {
  /** The physical line the record starts on (the header is line 1), so a refusal points at the file. */
  line: number;
  displayName: string;
  email: string | null;
  employeeId: string | null;
  role: string;
}

export const MAX_CSV_ROWS = 1000;
const COLUMNS = ['display_name', 'email', 'employee_id', 'role'] as const;
type Column = (typeof COLUMNS)[number];
/** Control characters have no place in a name or an address, and one in a log line or a page can forge it. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

const invalidCsv = (line: number, message: string) => new WartaError(400, 'invalid_csv', `line ${line}: ${message}`);

/** RFC 4180 records with the line each starts on; a quoted field may hold commas, quotes ("") and line breaks. */
function records(text: string, maxRecords: number): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw invalidCsv(start, 'a quoted field is not closed');
          const c = text[i]!;
          if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
          else if (c === '"') break;
          else {
            if (c === '\n') line++;
            field += c;
            i++;
          }
        }
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw invalidCsv(line, 'text after a closing quote');
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw invalidCsv(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
          field += text[i++];
        }
      }
      if (CONTROL.test(field)) throw invalidCsv(start, 'a control character');
      fields.push(field);
      if (text[i] === ',') i++;
      else break;
    }
    if (text[i] === '\r') {
      if (text[i + 1] !== '\n') throw invalidCsv(line, 'a carriage return not followed by a line feed');
      i++;
    }
    if (text[i] === '\n') (i++, line++);
    // A blank line is no record: a spreadsheet often leaves one at the end.
    if (fields.length === 1 && fields[0] === '') continue;
    out.push({ line: start, fields });
    if (out.length > maxRecords) throw invalidCsv(start, `more than ${maxRecords - 1} rows; split the file`);
  }
  return out;
}

/**
 * The people a CSV file names, one per row, under a header naming the columns
 * (`display_name`, `email`, `employee_id`, `role`, any order and case). Bounded
 * in bytes and rows before anything looks at the database; anything that is not
 * such a file is `400 invalid_csv` naming the line.
 */
export function parseInvitationCsv(text: string, options: { maxBytes: number; maxRows?: number }): InvitationCsvRow[] {
  const maxRows = options.maxRows ?? MAX_CSV_ROWS;
  if (Buffer.byteLength(text, 'utf8') > options.maxBytes) throw invalidCsv(1, `the file is larger than ${options.maxBytes} bytes`);
  const [header, ...rows] = records(text.replace(/^\uFEFF/, ''), maxRows + 1);
  if (!header) throw invalidCsv(1, 'the file is empty; the first line names the columns');
  const columns = header.fields.map((name) => name.trim().toLowerCase());
  for (const name of columns) {
    if (!(COLUMNS as readonly string[]).includes(name)) throw invalidCsv(header.line, `unknown column "${name.slice(0, 40)}"; the columns are ${COLUMNS.join(', ')}`);
    if (columns.indexOf(name) !== columns.lastIndexOf(name)) throw invalidCsv(header.line, `column "${name}" appears twice`);
  }
  if (!columns.includes('display_name')) throw invalidCsv(header.line, 'no display_name column');
  if (!columns.includes('email') && !columns.includes('employee_id')) throw invalidCsv(header.line, 'no email or employee_id column');
  if (rows.length === 0) throw invalidCsv(header.line + 1, 'no rows after the header');
  return rows.map(({ line, fields }) => {
    if (fields.length !== columns.length) throw invalidCsv(line, `${fields.length} fields where the header names ${columns.length}`);
    const value = (column: Column) => fields[columns.indexOf(column)]?.trim() ?? '';
    return { line, displayName: value('display_name'), email: value('email') || null, employeeId: value('employee_id') || null, role: value('role') || 'member' };
  });
}
