// Account page: add, rename, remove and confirm passkeys. Changes that need a
// recent passkey confirmation run the re-authentication ceremony first, then retry.
'use strict';
window.Warta.onPage('account', function ({ texts, status }, warta) {
  const lastWarning = document.getElementById('last-warning');

  function reloadWith(done) {
    window.location.assign('/account?done=' + done);
  }

  /** Runs `action`; if Warta asks for a recent confirmation, confirms with a passkey and runs it once more. */
  async function withReauthentication(action) {
    try {
      return await action();
    } catch (error) {
      if (error.wartaCode !== 'reauthentication_required') throw error;
      warta.setStatus(status, texts.reauth || texts.working || '');
      await warta.reauthenticate();
      return action();
    }
  }

  document.getElementById('add-passkey-form').addEventListener('submit', async function (event) {
    event.preventDefault();
    const name = document.getElementById('new-passkey-name').value;
    warta.setStatus(status, texts.working || '');
    try {
      await warta.createPasskey(
        function () {
          return withReauthentication(function () {
            return warta.callJSON('/api/webauthn/registration/options', {});
          });
        },
        '/api/webauthn/registration/verify',
        { name: name },
      );
      reloadWith('added');
    } catch (error) {
      warta.showError(status, error, texts);
    }
  });

  for (const form of document.querySelectorAll('form.rename-form')) {
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      try {
        await warta.callJSON('/api/account/passkeys/' + form.dataset.passkeyId, { name: form.elements.name.value }, 'PATCH');
        reloadWith('renamed');
      } catch (error) {
        warta.showError(status, error, texts);
      }
    });
  }

  function remove(passkeyId, confirmLast) {
    return withReauthentication(function () {
      return warta.callJSON('/api/account/passkeys/' + passkeyId + (confirmLast ? '?confirm_last_method=true' : ''), undefined, 'DELETE');
    });
  }

  for (const button of document.querySelectorAll('button.remove-passkey')) {
    button.addEventListener('click', async function () {
      const passkeyId = button.dataset.passkeyId;
      try {
        await remove(passkeyId, false);
        reloadWith('removed');
      } catch (error) {
        if (error.wartaCode !== 'last_sign_in_method') {
          warta.showError(status, error, texts);
          return;
        }
        warta.setStatus(status, '');
        lastWarning.hidden = false;
        lastWarning.dataset.passkeyId = passkeyId;
        document.getElementById('remove-anyway').focus();
      }
    });
  }

  // Confirming vouches for a passkey with a phishing-resistant one: the re-authentication must use one of those.
  for (const button of document.querySelectorAll('button.confirm-passkey')) {
    button.addEventListener('click', async function () {
      try {
        await withReauthentication(function () {
          return warta.callJSON('/api/account/passkeys/' + button.dataset.passkeyId + '/confirm', {});
        });
        reloadWith('confirmed');
      } catch (error) {
        warta.showError(status, error, texts);
      }
    });
  }

  document.getElementById('remove-anyway').addEventListener('click', async function () {
    try {
      await remove(lastWarning.dataset.passkeyId, true);
      reloadWith('removed');
    } catch (error) {
      warta.showError(status, error, texts);
    }
  });
});
