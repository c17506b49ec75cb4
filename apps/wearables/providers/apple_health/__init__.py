"""Apple Health: the client's export.zip in resumable chunks, and HealthKit samples a
companion app pushes."""
