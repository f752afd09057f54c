from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "essaim.content"
    label = "content"
