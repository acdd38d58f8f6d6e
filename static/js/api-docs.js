// Starts Swagger UI on the API docs page, reading the OpenAPI document's URL from the page.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  // validatorUrl null: no badge from validator.swagger.io (a third party the CSP refuses,
  // which would learn the document's address).
  window.SwaggerUIBundle({
    url: root.dataset.specUrl, domNode: root, deepLinking: true, validatorUrl: null,
  });
});
