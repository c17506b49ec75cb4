"""The fixed words the exercise library is described with. The shipped library
(`data/exercises.json`) and every gym's own exercises use only these values."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    STRENGTH = "strength", _("Strength")
    OLYMPIC = "olympic", _("Olympic lifting")
    PLYOMETRIC = "plyometric", _("Plyometric")
    CORE = "core", _("Core")
    CARDIO = "cardio", _("Cardio")
    CONDITIONING = "conditioning", _("Conditioning")
    MOBILITY = "mobility", _("Mobility")


class Muscle(models.TextChoices):
    CHEST = "chest", _("Chest")
    UPPER_BACK = "upper_back", _("Upper back")
    LATS = "lats", _("Lats")
    TRAPS = "traps", _("Traps")
    FRONT_DELTS = "front_delts", _("Front delts")
    SIDE_DELTS = "side_delts", _("Side delts")
    REAR_DELTS = "rear_delts", _("Rear delts")
    BICEPS = "biceps", _("Biceps")
    TRICEPS = "triceps", _("Triceps")
    FOREARMS = "forearms", _("Forearms")
    ABS = "abs", _("Abs")
    OBLIQUES = "obliques", _("Obliques")
    LOWER_BACK = "lower_back", _("Lower back")
    GLUTES = "glutes", _("Glutes")
    QUADS = "quads", _("Quads")
    HAMSTRINGS = "hamstrings", _("Hamstrings")
    ADDUCTORS = "adductors", _("Adductors")
    ABDUCTORS = "abductors", _("Abductors")
    CALVES = "calves", _("Calves")
    HIP_FLEXORS = "hip_flexors", _("Hip flexors")
    NECK = "neck", _("Neck")


class MuscleGroup(models.TextChoices):
    """What weekly volume is reported by."""

    CHEST = "chest", _("Chest")
    BACK = "back", _("Back")
    SHOULDERS = "shoulders", _("Shoulders")
    ARMS = "arms", _("Arms")
    CORE = "core", _("Core")
    LEGS = "legs", _("Legs")
    GLUTES = "glutes", _("Glutes")


MUSCLE_GROUP: dict[str, str] = {
    Muscle.CHEST: MuscleGroup.CHEST,
    Muscle.UPPER_BACK: MuscleGroup.BACK,
    Muscle.LATS: MuscleGroup.BACK,
    Muscle.TRAPS: MuscleGroup.BACK,
    Muscle.LOWER_BACK: MuscleGroup.BACK,
    Muscle.FRONT_DELTS: MuscleGroup.SHOULDERS,
    Muscle.SIDE_DELTS: MuscleGroup.SHOULDERS,
    Muscle.REAR_DELTS: MuscleGroup.SHOULDERS,
    Muscle.NECK: MuscleGroup.SHOULDERS,
    Muscle.BICEPS: MuscleGroup.ARMS,
    Muscle.TRICEPS: MuscleGroup.ARMS,
    Muscle.FOREARMS: MuscleGroup.ARMS,
    Muscle.ABS: MuscleGroup.CORE,
    Muscle.OBLIQUES: MuscleGroup.CORE,
    Muscle.HIP_FLEXORS: MuscleGroup.CORE,
    Muscle.GLUTES: MuscleGroup.GLUTES,
    Muscle.ABDUCTORS: MuscleGroup.GLUTES,
    Muscle.QUADS: MuscleGroup.LEGS,
    Muscle.HAMSTRINGS: MuscleGroup.LEGS,
    Muscle.ADDUCTORS: MuscleGroup.LEGS,
    Muscle.CALVES: MuscleGroup.LEGS,
}


class Equipment(models.TextChoices):
    BODYWEIGHT = "bodyweight", _("Bodyweight")
    BARBELL = "barbell", _("Barbell")
    DUMBBELL = "dumbbell", _("Dumbbell")
    KETTLEBELL = "kettlebell", _("Kettlebell")
    CABLE = "cable", _("Cable")
    MACHINE = "machine", _("Machine")
    SMITH_MACHINE = "smith_machine", _("Smith machine")
    EZ_BAR = "ez_bar", _("EZ bar")
    TRAP_BAR = "trap_bar", _("Trap bar")
    BENCH = "bench", _("Bench")
    PULL_UP_BAR = "pull_up_bar", _("Pull-up bar")
    DIP_STATION = "dip_station", _("Dip station")
    BAND = "band", _("Resistance band")
    MEDICINE_BALL = "medicine_ball", _("Medicine ball")
    STABILITY_BALL = "stability_ball", _("Stability ball")
    WEIGHT_PLATE = "weight_plate", _("Weight plate")
    LANDMINE = "landmine", _("Landmine")
    SUSPENSION_TRAINER = "suspension_trainer", _("Suspension trainer")
    PLYO_BOX = "plyo_box", _("Plyo box")
    SLED = "sled", _("Sled")
    JUMP_ROPE = "jump_rope", _("Jump rope")
    ROWER = "rower", _("Rowing machine")
    TREADMILL = "treadmill", _("Treadmill")
    BIKE = "bike", _("Bike")
    SKI_ERG = "ski_erg", _("Ski erg")
    FOAM_ROLLER = "foam_roller", _("Foam roller")


class Mechanics(models.TextChoices):
    COMPOUND = "compound", _("Compound")
    ISOLATION = "isolation", _("Isolation")


class Tracking(models.TextChoices):
    """What a logged set of the exercise records."""

    WEIGHT_REPS = "weight_reps", _("Weight and reps")
    REPS = "reps", _("Reps")
    TIME = "time", _("Time")
    DISTANCE_TIME = "distance_time", _("Distance and time")


# The licence of the library FitnessCRM ships: texts written for this project.
LIBRARY_LICENCE = "CC-BY-4.0"
