import os
import time

from django.template import Context, Engine


def test_an_edited_template_shows_at_the_next_render(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("first")
    engine = Engine(
        dirs=[str(tmp_path)],
        loaders=[("lava_server.web.loaders.FreshCachedLoader", ["django.template.loaders.filesystem.Loader"])],
    )
    assert engine.get_template("page.html").render(Context()) == "first"
    assert engine.get_template("page.html").render(Context()) == "first"  # from the cache
    page.write_text("second")
    later = time.time() + 5
    os.utime(page, (later, later))
    assert engine.get_template("page.html").render(Context()) == "second"
