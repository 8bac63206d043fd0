"""The ladder of notebook 08: each step beyond the recipes, trained and measured the same way.

    python benchmarks/beyond_recipes.py --json benchmarks/results/beyond_recipes.json  # 48 minutes here
    python benchmarks/beyond_recipes.py --short                  # a few hundred images, to check the script

Every step (helpers.beyond.STEPS) trains on the same 55,000 training images and
is judged on the same 5,000 validation images held out of the training set
(stratified, seed 1); the test set is not looked at while choosing. Steps before
the last train --step-epochs epochs each, for each of --step-seeds. The last step
("final") trains for each budget in --final-epochs (the most epochs, with early
stopping on validation loss) and each of --final-seeds; only its models are
scored on the test set, once each, and for each budget the average of their
probabilities is scored as an ensemble.

Prints one line per run and a table (step, validation accuracy, training
minutes, parameters), and writes everything as JSON after every run, so an
interrupted study keeps what it measured. Notebook 08 shows the stored table.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import TYPE_CHECKING

from reporting import (  # benchmarks/reporting.py, beside this script
    add_json_option,
    add_short_option,
    cpu_name,
    heading,
    markdown_table,
    new_parser,
    peak_memory_mb,
    refuse_negative_seeds,
    save_final,
    save_progress,
    utc_now,
)

if TYPE_CHECKING:  # imported lazily at run time, after argument checks, because TensorFlow is slow to load
    import numpy as np

    from helpers.beyond import Step
    from helpers.preprocess import PreparedSplit

VALIDATION_IMAGES = 5_000
SHORT_FIT, SHORT_VALIDATION, SHORT_TEST = 600, 200, 300
COLUMNS = (
    "step",
    "change",
    "seeds",
    "epochs",
    "validation accuracy",
    "test accuracy",
    "minutes",
    "parameters",
)


def train_step(
    step: Step, seed: int, fit: PreparedSplit, validation: PreparedSplit, epochs: int
) -> tuple[dict, object]:
    """Train one step with one seed and measure it on the validation images; returns (record, model)."""
    import keras

    import helpers

    keras.backend.clear_session()
    helpers.seed_everything(seed)
    policy = helpers.choose_precision().policy
    model = step.build(helpers.input_shape(), policy)
    steps_per_epoch = -(-len(fit.images) // step.batch_size)
    step.compile(model, steps_per_epoch, epochs)
    callbacks: list = [helpers.EpochTimer()]
    if step.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=helpers.beyond.PATIENCE, restore_best_weights=True
            )
        )
    started = time.perf_counter()
    history = model.fit(
        helpers.batched_dataset(fit, step.batch_size, shuffle_seed=seed),
        epochs=epochs,
        validation_data=helpers.batched_dataset(validation, helpers.EVALUATION_BATCH),
        callbacks=callbacks,
        shuffle=False,  # batched_dataset already reshuffles every epoch
        verbose=0,
    ).history
    minutes = (time.perf_counter() - started) / 60
    validation_loss, validation_accuracy = model.evaluate(
        helpers.batched_dataset(validation, helpers.EVALUATION_BATCH), verbose=0
    )
    record = {
        "step": step.name,
        "change": step.change,
        "seed": seed,
        "budget": epochs,
        "precision": policy,
        "epochs_trained": len(history["loss"]),
        "best_epoch": int(min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)) + 1,
        "minutes": round(minutes, 2),
        "parameters": model.count_params(),
        "validation_accuracy": round(float(validation_accuracy), 4),
        "validation_loss": round(float(validation_loss), 4),
        "validation_accuracy_per_epoch": [round(value, 4) for value in history["val_accuracy"]],
        "epoch_seconds": [round(seconds, 1) for seconds in callbacks[0].seconds],
    }
    return record, model


def probabilities(model: object, split: PreparedSplit) -> np.ndarray:
    """The model's ten probabilities for every image of `split`, in batches of helpers.EVALUATION_BATCH."""
    import helpers

    return model.predict(helpers.batched_dataset(split, helpers.EVALUATION_BATCH), verbose=0)


def averaged_accuracy(probabilities: list[np.ndarray], labels: np.ndarray) -> float:
    """Accuracy of the models' averaged probabilities (of one model: its own accuracy)."""
    import numpy as np

    return round(float(np.mean(np.mean(probabilities, axis=0).argmax(axis=1) == labels)), 4)


def row_name(run: dict) -> str:
    """A run's row in the table: its step, and for the final step its budget of epochs."""
    return f"{run['step']} ({epochs_text(run['budget'])})" if run["step"] == "final" else run["step"]


def epochs_text(count: int) -> str:
    """'1 epoch', '7 epochs'."""
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def table(runs: list[dict], ensembles: list[dict]) -> str:
    """Markdown table: one row per step (the mean over its seeds, range in brackets), then the ensembles."""
    table_rows = []
    for name in dict.fromkeys(row_name(run) for run in runs):
        step_runs = [run for run in runs if row_name(run) == name]
        accuracies = [run["validation_accuracy"] for run in step_runs]
        tests = [run["test_accuracy"] for run in step_runs if "test_accuracy" in run]
        spread = f" ({min(accuracies):.4f}–{max(accuracies):.4f})" if len(step_runs) > 1 else ""
        test_text = f"{statistics.mean(tests):.4f}" if tests else "not used"
        if len(tests) > 1:
            test_text += f" ({min(tests):.4f}–{max(tests):.4f})"
        epochs = sorted({run["epochs_trained"] for run in step_runs})
        trained = str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]}–{epochs[-1]}"
        table_rows.append(
            [
                name,
                step_runs[0]["change"],
                len(step_runs),
                trained,
                f"{statistics.mean(accuracies):.4f}{spread}",
                test_text,
                f"{statistics.mean(run['minutes'] for run in step_runs):.1f}",
                f"{step_runs[0]['parameters']:,}",
            ]
        )
    for ensemble in ensembles:
        table_rows.append(
            [
                f"ensemble ({epochs_text(ensemble['budget'])})",
                f"average of the {ensemble['models']} final models",
                ensemble["models"],
                "–",
                f"{ensemble['validation_accuracy']:.4f}",
                f"{ensemble['test_accuracy']:.4f}",
                f"{ensemble['minutes']:.1f}",
                f"{ensemble['parameters']:,}",
            ]
        )
    return markdown_table(COLUMNS, table_rows)


def main() -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--step-epochs", type=int, default=3, help="epochs of each step before the last")
    parser.add_argument("--step-seeds", type=int, nargs="+", default=[1], help="seeds of those steps")
    parser.add_argument(
        "--final-epochs", type=int, nargs="+", default=[7, 14], help="budgets (most epochs) of the final step"
    )
    parser.add_argument(
        "--final-seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds of the final step"
    )
    parser.add_argument(
        "--steps", nargs="*", help="train only these steps before the final one (none: only the final)"
    )
    add_short_option(parser, "a few hundred images")
    add_json_option(parser, "write the runs and the table here")
    args = parser.parse_args()
    if args.step_epochs < 1 or min(args.final_epochs) < 1:
        parser.error("--step-epochs and --final-epochs must be at least 1")
    refuse_negative_seeds(parser, args.step_seeds + args.final_seeds, "seeds")

    import helpers
    from helpers.beyond import STEPS, STEPS_BY_NAME
    from helpers.validation import stratified_holdout

    earlier = [step for step in STEPS if step.name != "final"]
    if args.steps is not None:
        unknown = sorted(set(args.steps) - {step.name for step in earlier})
        if unknown:
            parser.error(f"unknown steps {unknown}; choose from {[step.name for step in earlier]}")
        earlier = [step for step in earlier if step.name in args.steps]

    (x_train, y_train), (x_test, y_test) = helpers.load_mnist()
    fit, validation = stratified_holdout(helpers.prepare(x_train, y_train), VALIDATION_IMAGES, helpers.SEED)
    test = helpers.prepare(x_test, y_test)
    step_epochs, final_epochs = args.step_epochs, args.final_epochs
    if args.short:
        fit, validation, test = fit.head(SHORT_FIT), validation.head(SHORT_VALIDATION), test.head(SHORT_TEST)
        step_epochs, final_epochs = 1, [1]

    report = {
        "date": utc_now(),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "precision": helpers.choose_precision().policy,
        "short": args.short,
        "fit_images": len(fit.images),
        "validation_images": len(validation.images),
        "step_epochs": step_epochs,
        "final_epochs": final_epochs,
        "runs": [],
    }
    test_probabilities: dict[int, list] = {budget: [] for budget in final_epochs}  # per final budget
    validation_probabilities: dict[int, list] = {budget: [] for budget in final_epochs}
    plan = [(step, seed, step_epochs) for step in earlier for seed in args.step_seeds]
    plan += [(STEPS_BY_NAME["final"], seed, budget) for budget in final_epochs for seed in args.final_seeds]
    for step, seed, epochs in plan:
        record, model = train_step(step, seed, fit, validation, epochs)
        if step.name == "final":
            on_test = probabilities(model, test)  # the test set's one use for this network
            record["test_accuracy"] = averaged_accuracy([on_test], test.labels)
            test_probabilities[epochs].append(on_test)
            validation_probabilities[epochs].append(probabilities(model, validation))
        record["peak_memory_mb"] = round(peak_memory_mb())
        report["runs"].append(record)
        shown = f", test {record['test_accuracy']:.4f}" if "test_accuracy" in record else ""
        print(
            f"{row_name(record):<18} seed {seed}: validation {record['validation_accuracy']:.4f}{shown}, "
            f"{record['epochs_trained']} epochs (best {record['best_epoch']}), {record['minutes']:.1f} min",
            flush=True,
        )
        save_progress(args.json, report)

    ensembles = []
    for budget in final_epochs:
        if len(test_probabilities[budget]) > 1:
            finals = [run for run in report["runs"] if run["step"] == "final" and run["budget"] == budget]
            ensembles.append(
                {
                    "budget": budget,
                    "models": len(finals),
                    "validation_accuracy": averaged_accuracy(
                        validation_probabilities[budget], validation.labels
                    ),
                    "test_accuracy": averaged_accuracy(test_probabilities[budget], test.labels),
                    "minutes": round(sum(run["minutes"] for run in finals), 2),
                    "parameters": sum(run["parameters"] for run in finals),
                }
            )
    report["ensembles"] = ensembles
    report["table"] = table(report["runs"], ensembles)
    header = heading(report["date"], report["cpu"], report["precision"], args.short)
    print(f"\n{header}\n\n{report['table']}")
    save_final(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
