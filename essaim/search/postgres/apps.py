from django.apps import AppConfig


class SearchPostgresConfig(AppConfig):
    """The tables of the search engine inside PostgreSQL (installed with PostgreSQL only)."""

    name = "essaim.search.postgres"
    label = "search_postgres"
    default_auto_field = "django.db.models.BigAutoField"
