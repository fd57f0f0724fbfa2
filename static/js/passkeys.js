/* Passkeys (WebAuthn) in the browser: a button with data-passkey="register" or "login" asks
   its data-options-url for options, lets the authenticator answer, posts the answer as JSON to
   its data-url, and follows the redirect it gets back. Failures are written into the element
   named by data-status (role="alert"). The server's side is partners/passkeys.py. */
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return { publicKey: options };
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return { publicKey: options };
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) out.response.userHandle = toText(response.userHandle);
    }
    return out;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || response.statusText);
        return data;
      });
    });
  }

  function setUp(button) {
    var status = document.getElementById(button.dataset.status);
    function say(text) {
      if (status) {
        status.textContent = text;
        status.hidden = !text;
      }
    }
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      say(button.dataset.unsupported || "");
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var registering = button.dataset.passkey === "register";
      var nameInput = button.dataset.name ? document.getElementById(button.dataset.name) : null;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      say("");
      post(button.dataset.optionsUrl)
        .then(function (json) {
          return registering
            ? navigator.credentials.create(creationOptions(json))
            : navigator.credentials.get(requestOptions(json));
        })
        .then(function (credential) {
          return post(button.dataset.url, {
            credential: credentialJSON(credential),
            name: nameInput ? nameInput.value : "",
            next: button.dataset.next || ""
          });
        })
        .then(function (data) {
          window.location.assign(data.redirect);
        })
        .catch(function (error) {
          var name = error && error.name;
          if (name === "NotAllowedError" || name === "AbortError") say(button.dataset.cancelled);
          else if (name === "InvalidStateError") say(button.dataset.exists || button.dataset.failed);
          else if (error instanceof DOMException) say(button.dataset.failed);
          else say((error && error.message) || button.dataset.failed);
          button.disabled = false;
          button.removeAttribute("aria-busy");
        });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey]"), setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
