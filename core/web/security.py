"""Security headers on every answer of the gateway.

* Everything: `X-Content-Type-Options: nosniff` (a text is never run as a script) and
  `Referrer-Policy: same-origin` (addresses with a conversation's id do not leak to other sites).
* The staff pages (HTML outside the web chat's own pages and the API docs): a Content Security
  Policy that lets them load only the gateway's own scripts, styles and connections, and never be
  framed (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for older browsers): a page that
  shows people's data cannot be overlaid by another site (clickjacking) nor run injected script.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STAFF_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The web chat's page and privacy notice carry their styles inline; the API docs load Swagger UI
# from its CDN. They get the headers every answer gets, without the staff pages' policy.
OTHER_PAGES = ("/", "/privacidad", "/docs", "/redoc", "/docs/oauth2-redirect")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and path not in OTHER_PAGES:
                    extra += [
                        (b"content-security-policy", STAFF_CSP.encode()),
                        (b"x-frame-options", b"DENY"),
                    ]
                headers += [(name, value) for name, value in extra if name not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
