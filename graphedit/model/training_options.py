"""The training settings, each declared once as an :class:`~graphedit.nodes.options.Option`.

Everything else is derived from :data:`TRAINING_OPTIONS`: the project file's defaults
(``project_settings.DEFAULT_TRAINING``, the ``stored`` ones in this order, which is the saved files' key order),
the file's check and the run's (``training.settings.TrainSettings``), the ``training`` part of
``project.schema.json`` (``project_schema``), the Training panel's editors (``group``), the flags of
``graphedit train`` (``flag``) and the table in ``docs/project-format.md``. Adding a setting is one line here
(and, for what it does, the trainer's code that reads it).
"""

from __future__ import annotations

from graphedit.nodes.options import Option, scope_defaults

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "perceptron")
SCHEDULES = ("constant", "step", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps", "cuda:all")
ALL_GPUS = "cuda:all"
"""The device value that trains on every local GPU, one process each (``training.distributed``)."""
GROUPS = ("Optimizer", "Schedule", "Run")
"""The Training panel's boxes, in order; an option's ``group`` names one."""

# fmt: off
EARLY_STOPPING = (
    Option("enabled", "bool", False, "stop when the validation loss has not improved for `patience` epochs",
      title="Early stopping"),
    Option("patience", "int", 5, "epochs without a better validation loss before stopping", min=1),
)

TRAINING_OPTIONS: tuple[Option, ...] = (
    Option("optimizer", "choice", "adam", "optimiser", choices=OPTIMIZERS, open=True, group="Optimizer"),
    Option("lr", "float", 0.001, "learning rate", min=0.0, min_open=True, log=True, title="Learning rate",
      group="Optimizer", flag=True),
    Option("momentum", "float", 0.9, "SGD (and RMSprop) momentum", min=0.0, max=1.0, group="Optimizer"),
    Option("nesterov", "bool", False, "Nesterov momentum for SGD", group="Optimizer"),
    Option("weight_decay", "float", 0.0, "L2 weight decay through the optimizer (decoupled for AdamW)", min=0.0,
      group="Optimizer"),
    Option("schedule", "choice", "constant", "learning-rate schedule: constant, ×gamma every step_size epochs, or "
      "cosine down to 0", choices=SCHEDULES, open=True, title="LR schedule", group="Schedule"),
    Option("step_size", "int", 0, "epochs between decays of the step schedule; 0: a third of the epochs", min=0,
      title="Decay every", group="Schedule", stored=False),
    Option("gamma", "float", 0.1, "factor of each step decay", min=0.0, min_open=True, title="Decay factor",
      group="Schedule", stored=False),
    Option("warmup_epochs", "int", 0, "epochs in which the learning rate rises linearly to `lr` before the schedule "
      "runs; 0: none", min=0, title="Warm-up epochs", group="Schedule", flag=True, stored=False),
    Option("batch_size", "int", 32, "examples per step", min=1, group="Schedule", flag=True),
    Option("epochs", "int", 10, "passes over the training split", min=1, group="Schedule", flag=True),
    Option("clip_grad", "float", 0.0, "clip the global gradient norm to this; 0 turns clipping off", min=0.0,
      title="Clip gradients", group="Optimizer"),
    Option("early_stopping", "scope", scope_defaults(EARLY_STOPPING), "stop early on the validation loss",
      options=EARLY_STOPPING, group="Schedule"),
    Option("seed", "int", 0, "seed of initialisation, shuffling and dropout", min=0, group="Run",
      flag=True),
    Option("device", "choice", "auto", "`auto`, `cpu`, `cuda`, `cuda:N`, `mps`, or `cuda:all`: every GPU of this "
      "machine, one process each, with DistributedDataParallel (`batch_size` stays the global batch)", choices=DEVICES,
      open=True, group="Run", flag=True),
    Option("amp", "bool", False, "mixed precision (float16 autocast) on CUDA", title="Mixed precision", group="Run"),
    Option("channels_last", "choice", "auto", "image batches and convolution weights in channels-last memory order: "
      "`auto` uses it on the CPU for a network with 2-D convolutions (1.1-1.3× faster there) and not on GPUs, "
      "`on` everywhere (faster convolutions on recent GPUs with large layers), `off` never; the run's "
      "`settings.json` shows the choice", choices=("auto", "on", "off"), flag=True),
    Option("threads", "int", 0, "CPU threads of a run; 0: chosen per run (the idle physical cores, one for a tiny "
      "model; shown in the run's `settings.json`)", min=0, flag=True),
    Option("compile", "bool", False, "torch.compile the network (its time is reported apart; on the CPU it needs a "
      "C++ compiler)", stored=False, flag=True),
    Option("log_every", "int", 10, "steps between step events (the only per-step host sync)", min=1, stored=False),
    Option("probe_every", "int", 0, "steps between probes; 0: automatic (about 1% of the time); -1: off", min=-1,
      stored=False),
    Option("probe_batch", "int", 64, "samples in the fixed probe batch", min=1, stored=False),
    Option("grid", "int", 48, "decision-region grid side for 2-D inputs", min=2, stored=False),
    Option("start_from", "choice", "init", "`weights`: start from the tensors of the project's weights file that fit "
      "(by node name and shape), the rest (a new head) from their init — fine-tuning; `init`: each layer's init",
      choices=("init", "weights"), group="Run", stored=False),
)
# fmt: on

DATASET_SETTINGS: tuple[Option, ...] = (
    Option("seed", "int", 0, "seed of the data and of the split", min=0, title="Data seed"),
    Option("standardize", "bool", True, "scale inputs to mean 0, std 1 (fitted on train)", title="Standardise"),
)
"""The dataset section's settings beside its name, options and split (``project_settings.DEFAULT_DATASET``)."""

TRAINING_BY_NAME = {o.name: o for o in TRAINING_OPTIONS}


def training_option(name: str) -> Option:
    """The declaration of the training setting ``name`` (KeyError when there is none)."""
    return TRAINING_BY_NAME[name]
