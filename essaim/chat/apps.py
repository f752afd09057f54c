from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "essaim.chat"
    label = "chat"
