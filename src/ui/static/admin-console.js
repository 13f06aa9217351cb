// Administration console: every change is a call to Warta's admin API
// (/api/admin/…), the same one scripts use. A form with data-api is sent as
// JSON; fields named "_…" stay in the page. How a field is read:
//   data-kind="lines"  a textarea, one entry per line → array
//   data-kind="set"    checkboxes sharing a name → array of the checked values
//   checkbox           → true / false;   number input → number (empty: left out, or null with data-nullable)
//   data-optional      empty → left out;  data-kind="nullable": empty → null
//   input[type=file][data-into=NAME]   the file's text → NAME
// data-wrap="policy" puts the fields under that member; data-extra (JSON) and
// the pressed button's data-set (JSON) are merged in; the button's data-api and
// data-method override the form's. The API may ask for a recent passkey
// confirmation: the console runs the ceremony and sends the request again.
// On success the page goes to data-next, or shows the answer (data-show).
'use strict';
window.Warta.onPage('admin', function ({ root, texts }, warta) {
  function readField(element, body) {
    const name = element.name;
    if (!name || name.startsWith('_') || element.disabled) return;
    const kind = element.dataset.kind;
    if (kind === 'set') {
      if (!Array.isArray(body[name])) body[name] = [];
      if (element.checked) body[name].push(element.value);
    } else if (element.type === 'checkbox') {
      body[name] = element.checked;
    } else if (kind === 'lines') {
      body[name] = element.value.split('\n').map((line) => line.trim()).filter(Boolean);
    } else if (element.type === 'number' || kind === 'number') {
      if (element.value !== '') body[name] = Number(element.value);
      else if ('nullable' in element.dataset) body[name] = null;
    } else if (element.value === '' && kind === 'nullable') {
      body[name] = null;
    } else if (element.value !== '' || !('optional' in element.dataset)) {
      body[name] = element.value;
    }
  }

  async function bodyOf(form, button) {
    const fields = {};
    for (const element of form.elements) if (element.tagName !== 'BUTTON' && element.type !== 'file') readField(element, fields);
    for (const input of form.querySelectorAll('input[type=file][data-into]')) {
      fields[input.dataset.into] = input.files && input.files[0] ? await input.files[0].text() : '';
    }
    const body = form.dataset.wrap ? { [form.dataset.wrap]: fields } : fields;
    return Object.assign(body, JSON.parse(form.dataset.extra || '{}'), JSON.parse((button && button.dataset.set) || '{}'));
  }

  /** Runs `action`; if Warta asks for a recent confirmation, confirms with a passkey and runs it once more. */
  async function withReauthentication(action) {
    try {
      return await action();
    } catch (error) {
      if (error.wartaCode !== 'reauthentication_required') throw error;
      await warta.reauthenticate();
      return action();
    }
  }

  function element(tag, text, attributes) {
    const made = document.createElement(tag);
    if (text !== undefined && text !== null) made.textContent = String(text);
    for (const [name, value] of Object.entries(attributes || {})) made.setAttribute(name, value);
    return made;
  }

  function table(headings, rows) {
    const made = element('table');
    const head = made.createTHead().insertRow();
    for (const heading of headings) head.appendChild(element('th', heading, { scope: 'col' }));
    const body = made.createTBody();
    for (const row of rows) {
      const line = body.insertRow();
      for (const cell of row) line.appendChild(element('td', cell));
    }
    return made;
  }

  /** A one-time value (a link, a secret) with the words that go with it. */
  function oneTime(target, label, value) {
    target.appendChild(element('p', label));
    const shown = element('code', value, { class: 'one-time', 'data-one-time': '' });
    target.appendChild(element('p')).appendChild(shown);
  }

  function download(name, type, text) {
    const link = element('a', null, { href: URL.createObjectURL(new Blob([text], { type: type })), download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  const SHOW = {
    invitation(target, result) {
      if (result.link) oneTime(target, texts.invitation_link, result.link);
      else target.appendChild(element('p', texts.invitation_awaits_approval));
    },
    secret(target, result) {
      target.appendChild(element('p', texts.client_id + ' ' + result.client_id));
      if (result.client_secret) oneTime(target, texts.client_secret_once, result.client_secret);
    },
    bulk(target, result, form) {
      const counts = result.counts;
      target.appendChild(element('p', (result.dry_run ? texts.bulk_checked : result.applied ? texts.bulk_applied : texts.bulk_refused).replace('{rows}', counts.rows).replace('{refused}', counts.refused)));
      target.appendChild(
        table(
          [texts.col_line, texts.col_username, texts.col_result, texts.col_link],
          result.rows.map((row) => [row.line, row.username || '', texts['row_' + row.status] + (row.error_description ? ': ' + row.error_description : ''), row.link || '']),
        ),
      );
      const confirm = form.querySelector('[data-confirm-bulk]');
      if (confirm) confirm.hidden = !(result.dry_run && counts.refused === 0);
    },
    preview(target, result) {
      if (!result.changes.length) target.appendChild(element('p', texts.preview_nothing));
      else target.appendChild(table([texts.col_member, texts.col_before, texts.col_after], result.changes.map((change) => [change.member, JSON.stringify(change.before), JSON.stringify(change.after)])));
      for (const name of ['lose_every_sign_in', 'lose_password_sign_in', 'admins_locked_out']) {
        const group = result[name];
        if (!group || !group.count) continue;
        const names = group.people.map((person) => person.display_name || person.username).join(', ');
        target.appendChild(element('p', (texts[name] || name) + ': ' + group.count + (names ? ' (' + names + (group.count > group.people.length ? ', …' : '') + ')' : '')));
      }
    },
    download(target, result, form) {
      download(form.dataset.filename || 'export.json', result.type, result.text);
      target.appendChild(element('p', texts.downloaded));
    },
  };

  /** A download: the answer as it came (JSON, JSON lines), not parsed; an error answer is read like callJSON's. */
  async function fetchFile(path) {
    const response = await fetch(path, { credentials: 'same-origin' });
    if (response.ok) return { type: response.headers.get('content-type') || 'application/octet-stream', text: await response.text() };
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    const error = new Error((data && data.error_description) || response.statusText);
    error.wartaCode = (data && data.error) || 'generic';
    error.status = response.status;
    throw error;
  }

  async function send(form, button) {
    if (form.dataset.show === 'download') return withReauthentication(() => fetchFile(form.dataset.api));
    const path = (button && button.dataset.api) || form.dataset.api;
    const method = (button && button.dataset.method) || form.dataset.method || 'POST';
    const fields = method === 'GET' ? undefined : await bodyOf(form, button);
    // A DELETE carries a body only when its form has fields (a reason, say).
    const body = method === 'DELETE' && fields && !Object.keys(fields).length ? undefined : fields;
    return withReauthentication(() => warta.callJSON(path, body, method));
  }

  for (const form of root.querySelectorAll('form[data-api]')) {
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      const button = event.submitter;
      const error = form.querySelector('[data-error]');
      const result = form.querySelector('[data-result]');
      if (error) error.hidden = true;
      if (result) result.replaceChildren();
      if (button) button.disabled = true;
      try {
        const answer = await send(form, button);
        // A privileged change waits for a second admin: say so here instead of moving on as if it were done.
        if (answer && answer.status === 'awaiting_approval' && result) {
          result.appendChild(element('p', texts.awaiting_approval, { class: 'ok' }));
          result.focus();
          return;
        }
        const next = (button && button.dataset.next) || form.dataset.next;
        if (next) return window.location.assign(next);
        const show = (button && button.dataset.show) || form.dataset.show;
        if (show && result) {
          SHOW[show](result, answer, form);
          result.focus();
        }
      } catch (failure) {
        // A refused bulk invitation answers with every row: show them, not only the error.
        if (failure.wartaCode === 'invitation_rows_refused' && failure.body && result) SHOW.bulk(result, failure.body, form);
        if (error) {
          error.textContent = warta.describe(failure, texts);
          error.hidden = false;
          error.tabIndex = -1;
          error.focus();
        }
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  // The page itself needs a recent passkey confirmation (the gate): confirm, then load it again.
  const confirm = document.getElementById('confirm-passkey');
  if (confirm) {
    confirm.addEventListener('click', async function () {
      const status = document.getElementById('status');
      confirm.disabled = true;
      try {
        await warta.reauthenticate();
        window.location.reload();
      } catch (failure) {
        warta.showError(status, failure, texts);
        confirm.disabled = false;
      }
    });
  }
});
