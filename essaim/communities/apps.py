from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "essaim.communities"
    label = "communities"
