"""One package per provider beyond Strava (which lives in the app's own modules): its writes
(`services.py`), Celery tasks (`tasks.py`, imported by apps/wearables/tasks.py so Celery finds
them), pages and callbacks (`views.py`, `urls_public.py` on the public host, `portal_urls.py` in
the portal). Protocol clients live in apps/wearables/integrations/."""
