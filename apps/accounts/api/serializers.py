from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Invitation, Role, User
from apps.accounts.roles import mfa_enabled
from apps.tenants.selectors import current_gym


class GymSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    subdomain = serializers.CharField()
    time_zone = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    mfa_enabled = serializers.SerializerMethodField()
    gym = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "time_zone",
            "language",
            "unit_system",
            "role",
            "mfa_enabled",
            "gym",
        )
        read_only_fields = ("id", "email", "role", "mfa_enabled", "gym")

    def get_mfa_enabled(self, user: User) -> bool:
        return mfa_enabled(user)

    def get_gym(self, user: User) -> dict:
        return GymSummarySerializer(current_gym()).data


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name", "role", "is_active", "date_joined")
        read_only_fields = fields


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "status", "created_at", "expires_at", "accepted_at")
        read_only_fields = ("id", "status", "created_at", "expires_at", "accepted_at")

    def validate_role(self, role: str) -> str:
        from apps.accounts.services import INVITABLE_ROLES

        actor = self.context["request"].user
        if role not in INVITABLE_ROLES.get(actor.role, frozenset()):
            raise serializers.ValidationError(_("You cannot invite someone with this role."))
        return role

    def get_status(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "revoked"
        return "pending" if invitation.is_open else "expired"
