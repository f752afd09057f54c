from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .tokens import invitation_token_generator

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.SetPasswordView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/welcome/<uidb64>/<token>/",
        views.SetPasswordView.as_view(
            token_generator=invitation_token_generator, extra_context={"invitation": True}
        ),
        name="invitation_accept",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("settings/", views.settings_page, name="settings"),
    path("settings/password/", views.password_change_page, name="password-change"),
    path("settings/tokens/", views.tokens_page, name="tokens"),
    path("settings/tokens/<id:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("manage/people/", views.people_admin, name="people-admin"),
    path(
        "manage/people/<id:user_id>/deactivate/",
        views.person_set_active,
        {"active": False},
        name="person-deactivate",
    ),
    path(
        "manage/people/<id:user_id>/reactivate/",
        views.person_set_active,
        {"active": True},
        name="person-reactivate",
    ),
]
