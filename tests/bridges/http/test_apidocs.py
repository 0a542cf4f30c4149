"""/docs works offline: Swagger UI's files come from the installed package, not a CDN."""

from __future__ import annotations

import re


def test_docs_page_loads_only_local_assets(serve):
    client = serve()
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", page.text)
    urls = [u for pair in sources for u in pair if u]
    assert urls and not [u for u in urls if "://" in u or u.startswith("//")], urls
    for url in urls:  # the script, the stylesheet, the icon and the spec all answer here
        answer = client.get(url)
        assert answer.status_code == 200, url
    assert "SwaggerUIBundle" in client.get("/docs-assets/swagger-ui-bundle.js").text
    assert client.get("/openapi.json").json()["info"]["title"] == "scorehost"


def test_docs_and_its_assets_need_the_token_when_one_is_set(serve):
    client = serve(token="s3cret")
    for route in ("/docs", "/docs-assets/swagger-ui-bundle.js"):
        assert client.get(route).status_code == 401
        assert client.get(route, headers={"Authorization": "Bearer s3cret"}).status_code == 200
