import { describe, expect, it } from 'vitest';
import { parseInvitationCsv } from '../../src/invitations/csv.js';

const parse = (text: string, maxRows?: number) => parseInvitationCsv(text, { maxBytes: 64 * 1024, ...(maxRows === undefined ? {} : { maxRows }) });
const refusal = (text: string, maxRows?: number) => {
  try {
    parse(text, maxRows);
  } catch (error) {
    return error as { status: number; code: string; description: string };
  }
  throw new Error('parsed');
};

describe('parseInvitationCsv', () => {
  it('reads rows under a header in any order and case, with the line each starts on', () => {
    expect(parse('Role,EMAIL,display_name\nadmin,ala@example.gov,Ala\n,bob@example.gov,Bob\n')).toEqual([
      { line: 2, displayName: 'Ala', email: 'ala@example.gov', employeeId: null, role: 'admin' },
      { line: 3, displayName: 'Bob', email: 'bob@example.gov', employeeId: null, role: 'member' },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, and counts lines across them', () => {
    const rows = parse('display_name,employee_id\n"Nowak, Anna ""Ania""",E-1\n"Two\nLines",E-2\nCarl,E-3');
    expect(rows.map((row) => [row.line, row.displayName, row.employeeId])).toEqual([
      [2, 'Nowak, Anna "Ania"', 'E-1'],
      [3, 'Two\nLines', 'E-2'],
      [5, 'Carl', 'E-3'],
    ]);
  });

  it('tolerates a UTF-8 byte order mark, CRLF line ends and blank lines', () => {
    // The mark before a quoted first column: trimming the name would not remove it there.
    expect(parse('\uFEFF"display_name",email\r\nAla,ala@example.gov\r\n\r\nBob,bob@example.gov\r\n').map((row) => [row.line, row.displayName, row.email])).toEqual([
      [2, 'Ala', 'ala@example.gov'],
      [4, 'Bob', 'bob@example.gov'],
    ]);
  });

  it('refuses an unknown, repeated or missing column in the header', () => {
    expect(refusal('display_name,email,password\nA,a@example.gov,x')).toMatchObject({ status: 400, code: 'invalid_csv', description: expect.stringMatching(/^line 1: unknown column "password"/) });
    expect(refusal('display_name,email,EMAIL\nA,a@b.gov,c@d.gov').description).toMatch(/^line 1: column "email" appears twice/);
    expect(refusal('email,role\na@example.gov,member').description).toBe('line 1: no display_name column');
    expect(refusal('display_name,role\nA,member').description).toBe('line 1: no email or employee_id column');
    expect(refusal('').description).toMatch(/^line 1: the file is empty/);
    expect(refusal('display_name,email\n').description).toBe('line 2: no rows after the header');
  });

  it('names the line of a malformed record', () => {
    expect(refusal('display_name,email\nA,a@example.gov\nB,b@example.gov,extra').description).toMatch(/^line 3: 3 fields where the header names 2/);
    expect(refusal('display_name,email\n"A\nB,a@example.gov\n').description).toBe('line 2: a quoted field is not closed');
    expect(refusal('display_name,email\nA,a@example.gov\n"B"x,b@example.gov').description).toBe('line 3: text after a closing quote');
    expect(refusal('display_name,email\nA,a@example.gov\nB"b,b@example.gov').description).toMatch(/^line 3: a quote inside an unquoted field/);
    expect(refusal('display_name,email\nA\u0000,a@example.gov').description).toBe('line 2: a control character');
    expect(refusal('display_name,email\rA,a@example.gov').description).toBe('line 1: a carriage return not followed by a line feed');
  });

  it('refuses more rows than allowed, naming the first line too many, and a file over the byte bound', () => {
    const rows = (n: number) => `display_name,employee_id\n${Array.from({ length: n }, (_, i) => `P${i},E-${i}`).join('\n')}`;
    expect(parse(rows(1000))).toHaveLength(1000);
    expect(refusal(rows(1001))).toMatchObject({ code: 'invalid_csv', description: 'line 1002: more than 1000 rows; split the file' });
    expect(refusal(rows(4), 3).description).toBe('line 5: more than 3 rows; split the file');
    expect(() => parseInvitationCsv(rows(10), { maxBytes: 50 })).toThrow(/larger than 50 bytes/);
  });
});
