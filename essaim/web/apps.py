from django.apps import AppConfig
from django.urls import register_converter


class IdConverter:
    """``<id:…>`` in web routes: a database id. Django's ``int`` takes any number of
    digits, and a number past the database's integers failed as a 500; this one is a 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class WebConfig(AppConfig):
    name = "essaim.web"
    label = "web"

    def ready(self) -> None:
        register_converter(IdConverter, "id")
