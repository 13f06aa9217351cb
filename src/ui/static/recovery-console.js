// Recovery desk console: open and reject cases through the JSON API, and
// approve through a real form POST whose answer is the printable slip. An
// approval needs a passkey confirmation from the last five minutes: the page
// asks Warta first and runs the re-authentication ceremony only when needed.
(function () {
  'use strict';
  const warta = window.Warta;
  const root = document.querySelector('[data-messages]');
  const texts = root ? warta.messages(root) : {};

  function fields(form) {
    const body = {};
    new FormData(form).forEach(function (value, name) {
      body[name] = value;
    });
    return body;
  }

  function showError(form, error) {
    const target = form.querySelector('[data-error]');
    target.textContent = warta.describe(error, texts);
    target.hidden = false;
  }

  function wire(id, handler) {
    const form = document.getElementById(id);
    if (!form) return;
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      form.querySelector('[data-error]').hidden = true;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        await handler(form);
      } catch (error) {
        showError(form, error);
        button.disabled = false;
      }
    });
  }

  wire('open-case-form', async function (form) {
    const body = fields(form);
    body.user_id = form.dataset.userId;
    const result = await warta.callJSON('/api/recovery/cases', body);
    window.location.assign('/recovery/cases/' + result.case.id + '?done=opened');
  });

  wire('reject-form', async function (form) {
    await warta.callJSON('/api/recovery/cases/' + form.dataset.caseId + '/reject', fields(form));
    window.location.assign('/recovery?done=rejected');
  });

  // Ask for the passkey before the check when the page knows the last confirmation will not count any more
  // (a margin for the time the check takes), so the usual path has no refused request.
  const loadedAt = Date.now();
  const confirmationLeft = function (form) {
    return Number(form.dataset.freshFor || 0) - (Date.now() - loadedAt) / 1000;
  };

  wire('approve-form', async function (form) {
    const check = function () {
      return warta.callJSON('/api/recovery/cases/' + form.dataset.caseId + '/approval-check', fields(form));
    };
    if (confirmationLeft(form) < 15) await warta.reauthenticate();
    try {
      await check();
    } catch (error) {
      if (error.wartaCode !== 'reauthentication_required') throw error;
      await warta.reauthenticate();
      await check();
    }
    // A native submission: the slip comes back as this form's answer, never from a URL that could be fetched again.
    form.submit();
  });

  const confirm = document.getElementById('confirm-passkey');
  if (confirm) {
    confirm.addEventListener('click', async function () {
      try {
        await warta.reauthenticate();
        window.location.reload();
      } catch (error) {
        warta.showError(document.getElementById('status'), error, texts);
      }
    });
  }

  // Only the last four characters are ever kept, whatever is typed or pasted, and the officer sees which.
  const last4 = document.getElementById('document_last4');
  if (last4) {
    const echo = document.getElementById('document_last4_echo');
    last4.addEventListener('input', function () {
      const kept = last4.value.replace(/[^A-Za-z0-9]/g, '').slice(-4).toUpperCase();
      if (kept !== last4.value) last4.value = kept;
      echo.textContent = kept.length === 4 ? texts.last4_kept.replace('{last4}', kept) : '';
    });
  }

  const print = document.getElementById('print-slip');
  if (print) print.addEventListener('click', function () {
    window.print();
  });
})();
