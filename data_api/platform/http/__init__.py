"""HTTP for every service: the app frame (`app.service_app`), API keys (`auth`), the browser
rules (`browser`), request stats and Prometheus, the uvicorn server, cached bodies, errors as
JSON, and the health parts every service shares. Nothing is imported here: the CLI's light
commands do not load FastAPI."""
