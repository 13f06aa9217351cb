// Account page: cancel a recovery of this account that the user did not ask for.
'use strict';
window.Warta.onPage('recovery-notice', function ({ root, texts }, warta) {
  const status = document.getElementById('recovery-notice-status');
  for (const button of root.querySelectorAll('button.cancel-recovery')) {
    button.addEventListener('click', async function () {
      button.disabled = true;
      try {
        await warta.callJSON('/api/account/recovery/' + button.dataset.caseId + '/cancel', {});
        warta.setStatus(status, texts.cancelled, 'ok');
        button.closest('[data-case-id]').hidden = true;
      } catch (error) {
        warta.showError(status, error, texts);
        button.disabled = false;
      }
    });
  }
});
