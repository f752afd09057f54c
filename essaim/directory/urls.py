from django.urls import path

from . import views

urlpatterns = [
    path("people/", views.directory, name="directory"),
    path("people/experts/", views.experts, name="experts"),
    path("people/status/", views.status_set, name="status-set"),
    path("people/<id:person_id>/", views.profile, name="person"),
    path("people/<id:person_id>/edit/", views.profile_edit, name="person-edit"),
    path("people/<id:person_id>/photo/", views.photo_upload, name="person-photo"),
    path("people/<id:person_id>/photo/remove/", views.photo_remove, name="person-photo-remove"),
    path("people/<id:person_id>/org-chart/", views.org_chart, name="org-chart"),
    path("people/<id:person_id>/follow/", views.follow, {"on": True}, name="person-follow"),
    path("people/<id:person_id>/unfollow/", views.follow, {"on": False}, name="person-unfollow"),
    path(
        "people/<id:person_id>/followers/",
        views.follows,
        {"direction": "followers"},
        name="person-followers",
    ),
    path(
        "people/<id:person_id>/following/",
        views.follows,
        {"direction": "following"},
        name="person-following",
    ),
    path(
        "people/<id:person_id>/endorse/<id:topic_id>/",
        views.endorse,
        {"on": True},
        name="person-endorse",
    ),
    path(
        "people/<id:person_id>/unendorse/<id:topic_id>/",
        views.endorse,
        {"on": False},
        name="person-unendorse",
    ),
    path("org/<id:unit_id>/", views.org_unit, name="org-unit"),
    path("manage/profile-fields/", views.profile_fields_admin, name="profile-fields-admin"),
    path("manage/organisation/", views.organisation_admin, name="organisation-admin"),
]
