"""The Data page in AppTest: a zip of two coloured classes, loading it, reading its facts."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.helpers.apptest import no_exception
from tests.helpers.eval_pages import png_bytes

COLORS = {"cats": (200, 30, 30), "dogs": (30, 30, 200)}


def dataset_zip(per_class: int, prefix: str = "pets") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, color in COLORS.items():
            for index in range(per_class):
                archive.writestr(f"{prefix}/{name}/{index}.png", png_bytes(color, 40 + index))
    return buffer.getvalue()


def load_zip(app: AppTest, data: bytes, name: str = "pets.zip") -> None:
    app.segmented_control(key="data_source").set_value("Zip upload").run()
    app.file_uploader(key="data_zip").upload(name, data, "application/zip")
    app.run()
    app.button(key="data_zip_load").click().run()
    no_exception(app)


def open_data(new_app: Callable) -> AppTest:
    app = new_app().run()
    app.switch_page("app_pages/data.py").run()
    return app


def facts(app: AppTest) -> dict[str, str]:
    return {metric.label: str(metric.value) for metric in app.metric}
