// The API reference page (src/api/docs-routes.ts): Swagger UI on the generated OpenAPI document.
/* global SwaggerUIBundle */
(function () {
  var el = document.getElementById('api-reference');
  SwaggerUIBundle({ url: el.getAttribute('data-spec'), domNode: el, deepLinking: true, tryItOutEnabled: false });
})();
