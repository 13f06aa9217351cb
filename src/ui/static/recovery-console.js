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

  wire('approve-form', async function (form) {
    const check = function () {
      return warta.callJSON('/api/recovery/cases/' + form.dataset.caseId + '/approval-check', fields(form));
    };
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

  const print = document.getElementById('print-slip');
  if (print) print.addEventListener('click', function () {
    window.print();
  });
})();
