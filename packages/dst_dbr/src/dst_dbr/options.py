"""The command-line shortcuts of D-ST and D-BR to their config fields (``unpoison.defenses.
cli``); ``--set FIELD=VALUE`` reaches every other field."""

from unpoison.defenses.options import ConfigOption, shortcuts

from dst_dbr.config import CONTRASTS

SD_OPTIONS = (
    *shortcuts("sd.train_epochs", "sd.finetune_epochs"),
    ConfigOption(
        "single-pass-split",
        "sd.resample_split",
        "split on the scores the thresholds came from (the code scores every image again with "
        "new random transforms)",
        const=False,
    ),
)
ST_OPTIONS = (
    ConfigOption("extractor-epochs", "st.extractor_epochs"),
    ConfigOption("classifier-epochs", "st.classifier_epochs"),
    ConfigOption(
        "contrast",
        "st.contrast",
        "the extractor's loss (the poster's ablation): ctl, s-ctl or ss-ctl (default)",
        choices=CONTRASTS,
    ),
)
DST_OPTIONS = (*SD_OPTIONS, *ST_OPTIONS)
DBR_OPTIONS = (*shortcuts("backdoored.epochs", "br.epochs"), *SD_OPTIONS)
