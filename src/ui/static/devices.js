// Account page: sign out a device or a browser session, rename a device.
// The server does the work (src/devices/); this only calls it and reloads.
'use strict';
window.Warta.onPage('account', function ({ texts, status }, warta) {

  function reloadWith(done) {
    window.location.assign('/account?done=' + done);
  }

  async function run(action, done) {
    try {
      await action();
      reloadWith(done);
    } catch (error) {
      warta.showError(status, error, texts);
    }
  }

  document.querySelectorAll('button.revoke-device').forEach(function (button) {
    button.addEventListener('click', function () {
      const id = button.getAttribute('data-device-id');
      // A device that signed in through this browser takes this session with it: say so on the sign-in page it lands on.
      if (button.getAttribute('data-signs-out-here') === 'true') {
        warta
          .callJSON('/api/account/devices/' + encodeURIComponent(id), undefined, 'DELETE')
          .then(function () {
            window.location.assign('/signin?signed_out=here');
          })
          .catch(function (error) {
            warta.showError(status, error, texts);
          });
        return;
      }
      run(function () {
        return warta.callJSON('/api/account/devices/' + encodeURIComponent(id), undefined, 'DELETE');
      }, 'device_revoked');
    });
  });

  document.querySelectorAll('button.revoke-session').forEach(function (button) {
    button.addEventListener('click', async function () {
      const id = button.getAttribute('data-session-id');
      try {
        await warta.callJSON('/api/account/sessions/' + encodeURIComponent(id), undefined, 'DELETE');
        // Signing out this browser's own session leaves nothing to show here.
        if (button.getAttribute('data-current') === 'true') window.location.assign('/signin?signed_out=here');
        else reloadWith('session_revoked');
      } catch (error) {
        warta.showError(status, error, texts);
      }
    });
  });

  document.querySelectorAll('form.rename-device-form').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      const id = form.getAttribute('data-device-id');
      const name = form.querySelector('input[name="name"]').value;
      run(function () {
        return warta.callJSON('/api/account/devices/' + encodeURIComponent(id), { name: name }, 'PATCH');
      }, 'device_renamed');
    });
  });
});
