"""Celery: Redis broker when REDIS_URL is set, otherwise tasks run eagerly in-process."""

import environ

env = environ.Env()

_redis_url = env.str("REDIS_URL", default="")

# Eager tasks still take a producer from the broker's pool; "memory://" without a host makes
# kombu warn "No hostname was supplied" on the newcomer's first task.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_redis_url or "memory://localhost/")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=_redis_url or None)
CELERY_TASK_ALWAYS_EAGER = not _redis_url and not env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long Redis waits for a taken task to be acknowledged (acks_late: when it has finished)
# before it hands the task to another worker: a task whose whole worker died (killed, the
# machine gone) runs again after this. Longer than any task runs and than any countdown or
# retry backoff we use (a countdown longer than this would be delivered twice); a job that
# may be longer goes through the database and beat, not a countdown.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=10 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Each worker looks for such tasks every unacked_restore_interval (10 s) times this; kombu's
    # default of 10 would add up to 100 s. One cheap sorted-set read per sweep.
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Static schedule, synced into django-celery-beat's tables by its database scheduler.
CELERY_BEAT_SCHEDULE = {
    # Notifications that quiet hours held back (or whose task was lost) and are now due.
    "notifications-held-back": {
        "task": "core.fan_out_to_gyms",
        "schedule": 60.0,
        "args": ["notifications.send_held_back"],
    },
    "refill-spare-gym-schemas": {"task": "tenants.refill_spare_schemas", "schedule": 60.0},
    # Stripe events whose task was lost (apps.connect.tasks.stripe_events_sweep).
    "stripe-events-sweep": {"task": "connect.process_pending_stripe_events", "schedule": 300.0},
    "appointment-reminders": {
        "task": "core.fan_out_to_gyms",
        "schedule": 5 * 60.0,
        "args": ["calendars.send_appointment_reminders"],
    },
    "class-reminders": {
        "task": "core.fan_out_to_gyms",
        "schedule": 5 * 60.0,
        "args": ["calendars.send_class_reminders"],
    },
    # The daily steps of memberships (apps.billing.services.dunning_run): run hourly so each
    # gym's day turns over within the hour of its own midnight; a run that finds nothing to do
    # changes nothing.
    "billing-dunning": {
        "task": "core.fan_out_to_gyms",
        "schedule": 60 * 60.0,
        "args": ["billing.run_dunning"],
    },
    # Automations: time-based triggers (birthdays, absences, trials ending, adherence) found
    # every 15 minutes, idempotent by occurrence key; due steps every minute (a due time in
    # the database rather than a Celery countdown: it survives worker restarts).
    "automations-scan": {
        "task": "core.fan_out_to_gyms",
        "schedule": 15 * 60.0,
        "args": ["automations.scan_time_triggers"],
    },
    # Apple Health uploads nobody finished (parts deleted) and imports whose task was lost.
    "apple-health-exports-sweep": {
        "task": "core.fan_out_to_gyms",
        "schedule": 60 * 60.0,
        "args": ["wearables.apple_health_exports_sweep"],
    },
    "automations-due-steps": {
        "task": "core.fan_out_to_gyms",
        "schedule": 60.0,
        "args": ["automations.run_due_steps"],
    },
    # Scheduled campaigns start within a minute of their time; a campaign whose sender task
    # was lost is handed to a new one (apps.campaigns.services.campaigns_start_due).
    "campaigns-due": {
        "task": "core.fan_out_to_gyms",
        "schedule": 60.0,
        "args": ["campaigns.start_due"],
    },
    # One reminder per unread streak (apps.messaging.services.unread_reminders_send).
    "messaging-unread-reminders": {
        "task": "core.fan_out_to_gyms",
        "schedule": 5 * 60.0,
        "args": ["messaging.send_unread_reminders"],
    },
    # Wearables: pull each connection whose retry is due or whose last sync is older than its
    # provider's interval (apps.wearables.services.sync.connections_sync_due).
    "wearables-sync-due": {
        "task": "core.fan_out_to_gyms",
        "schedule": 30 * 60.0,
        "args": ["wearables.sync_due"],
    },
    # Waitlist places of classes that have started end without a spot and give back what they
    # used (apps.scheduling.classes.services.waitlists_expire).
    "class-waitlists-expire": {
        "task": "core.fan_out_to_gyms",
        "schedule": 15 * 60.0,
        "args": ["scheduling.expire_waitlists"],
    },
    "fail-stuck-import-jobs": {
        "task": "core.fan_out_to_gyms",
        "schedule": 10 * 60.0,
        "args": ["imports.fail_stuck_jobs"],
    },
}
# Campaign mail per gym and second, across all workers (apps.campaigns.services.RateLimit): what
# the marketing mail provider allows, shared by the gyms on one account.
CAMPAIGN_SEND_RATE = env.int("CAMPAIGN_SEND_RATE", default=50)
