from django.urls import include, path

from essaim.api import api
from essaim.content import views as content_views
from essaim.governance.views import audit_page
from essaim.web import views as web_views

urlpatterns = [
    # First: the API takes most requests, and each pattern before it is tried in turn.
    path("api/v1/", api.urls),
    path("", content_views.home_feed, name="home"),
    path("", include("essaim.accounts.urls")),
    path("", include("essaim.directory.urls")),
    path("", include("essaim.directory.import_views")),
    # Before communities: its "c/<slug>/<action>/" would take "c/<slug>/files/".
    path("", include("essaim.content.views")),
    path("", include("essaim.communities.views")),
    path("", include("essaim.knowledge.views")),
    path("", include("essaim.chat.views")),
    path("", include("essaim.search.views")),
    path("", include("essaim.notifications.views")),
    path("manage/audit/", audit_page, name="audit"),
    path("health/", web_views.health, name="health"),
    path("manifest.webmanifest", web_views.manifest, name="manifest"),
    path("sw.js", web_views.service_worker, name="service-worker"),
    path("i18n/language/", web_views.language_switch, name="language-switch"),
]

handler400 = "essaim.web.views.bad_request"
handler500 = "essaim.web.views.server_error"
