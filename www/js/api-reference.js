// The API reference (api.html): Swagger UI renders the API's OpenAPI
// document, /api/openapi.json of the API's origin (config.js).  Nothing is
// fetched from elsewhere: no validator badge, no "Try it out" requests
// unless the reader asks for one.
import { apiBase } from '../config.js';

const specUrl = `${apiBase}/api/openapi.json`;

function start() {
    const link = document.getElementById('api-spec-link');
    link.href = specUrl;

    // eslint-disable-next-line no-undef
    const ui = globalThis.SwaggerUIBundle;
    if (typeof ui !== 'function') {
        document.getElementById('api-reference').textContent =
            'The API reference viewer did not load.';
        return;
    }
    ui({
        url: specUrl,
        dom_id: '#api-reference',
        deepLinking: true,
        presets: [ui.presets.apis],
        layout: 'BaseLayout',
        validatorUrl: null,
        docExpansion: 'list',
        defaultModelsExpandDepth: 0,
        displayOperationId: true,
        tryItOutEnabled: false,
        supportedSubmitMethods: ['get', 'post', 'patch', 'delete'],
    });
}

// the bundle is a deferred classic script: it has run once the document
// is parsed, as module scripts run after deferred ones
if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
} else {
    start();
}
