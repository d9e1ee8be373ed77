// The API reference page (casemgr/apidocs): Swagger UI, loaded from this
// origin, reading the document named by the page. Here rather than inline,
// since the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("api-reference");
    if (!root || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.SwaggerUIBundle({
      url: root.getAttribute("data-document"),
      domNode: root,
      // No badge from the public validator: nothing leaves this origin.
      validatorUrl: null,
      // A reference to read: calls are made with a token, from a client.
      supportedSubmitMethods: [],
      deepLinking: true,
      defaultModelsExpandDepth: 0,
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
