from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "essaim.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        # Accepted and well-voted answers are evidence of expertise in "who knows X".
        from essaim.directory.selectors import EXPERTISE_SOURCES

        from .selectors import answer_evidence

        if answer_evidence not in EXPERTISE_SOURCES:
            EXPERTISE_SOURCES.append(answer_evidence)
