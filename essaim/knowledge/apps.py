from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "essaim.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        # Accepted and well-voted answers, and articles, are evidence of expertise in
        # "who knows X".
        from essaim.directory.selectors import EXPERTISE_SOURCES

        from .selectors import answer_evidence, article_evidence

        for source in (answer_evidence, article_evidence):
            if source not in EXPERTISE_SOURCES:
                EXPERTISE_SOURCES.append(source)
