// Starts Swagger UI on the app's own OpenAPI document (a file, not an inline script, for the CSP).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
