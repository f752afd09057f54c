from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "essaim.knowledge"
    label = "knowledge"
