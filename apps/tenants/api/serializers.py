from __future__ import annotations

from rest_framework import serializers

from apps.tenants.models import Gym


class GymCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    subdomain = serializers.CharField()
    owner_email = serializers.EmailField()
    owner_password = serializers.CharField(write_only=True, style={"input_type": "password"})


class GymSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Gym
        fields = ("name", "subdomain", "time_zone", "url", "created_at")

    def get_url(self, gym: Gym) -> str:
        return self.context["gym_url"]
