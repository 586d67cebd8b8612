// The API page: Swagger UI (from the swagger-ui-bundle package) on the served OpenAPI document.
window.addEventListener("load", function () {
  var spec = document.getElementById("api-page").dataset.spec;
  window.SwaggerUIBundle({ url: spec, dom_id: "#swagger-ui", deepLinking: true });
});
