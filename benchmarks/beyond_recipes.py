"""Notebook 08's study: each step beyond the recipes and a sweep around the final network, trained alike.

    MNIST_PRECISION=float32 python benchmarks/beyond_recipes.py --jobs 2 \\
        --json benchmarks/results/beyond_recipes.json                # the study: 65 minutes on 2 cores
    MNIST_PRECISION=float32 python benchmarks/beyond_recipes.py --steps augmentation --seeds 1 --no-sweep \\
        --json benchmarks/results/beyond_timing_float32.json     # the final network alone, to time it
    python benchmarks/beyond_recipes.py --short                  # a few hundred images, to check the script

Every run trains on the same 55,000 training images for its planned number of
epochs (study_plan.EPOCHS unless a sweep point changes it) and is judged at
its last epoch on the same 5,000 validation images held out of the training set
(stratified, seed 1), as it is and with test-time shifts. Each step
(study_plan.STEPS) trains once for each of --seeds; each sweep point
(study_plan.SWEEP, the final network with one setting changed) once, with
seed 1. Only the final step's networks are scored on the test set, once each,
and their averaged probabilities as an ensemble. The training arithmetic of each
run is counted as 6 x forward multiply-adds per image x images x epochs.

--keep adds to the study already in --json PATH: its runs of other steps and
seeds stay, those this plan trains are replaced (the ensemble is of the final
runs trained in this call).

--jobs N trains N runs at a time, each in a fresh process with 1/N of the cores:
on 2 cores two runs at a time finish about 1.4 times as many runs an hour, and
each run takes longer than alone, so time the final network alone (--jobs 1).

Prints one line per run and a table, and writes everything as JSON after every
run, so an interrupted study keeps what it measured. Notebook 08 shows the
stored table and draws its figure.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

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

VALIDATION_IMAGES = 5_000
SHORT_FIT, SHORT_VALIDATION, SHORT_TEST = 600, 200, 300
SWEEP_SEED = 1
COLUMNS = (
    "run",
    "change",
    "seeds",
    "validation",
    "+ shifts",
    "test",
    "+ shifts",
    "TFLOP",
    "minutes",
)


def train_one(name: str, seed: int, short: bool, threads: int) -> dict:
    """Train one run in this (fresh) process with `threads` threads; returns its record and probabilities."""
    os.environ["MNIST_THREADS"] = str(threads)  # read when helpers imports TensorFlow, just below
    import time

    import keras
    import study_plan as plan

    import helpers

    step = plan.STEPS_BY_NAME[name]
    fit, validation, test = splits(short)
    keras.backend.clear_session()
    helpers.seed_everything(seed)
    policy = helpers.choose_precision().policy
    keras.mixed_precision.set_dtype_policy(policy)
    model = step.build(policy)
    epochs = 1 if short else step.epochs
    updates = -(-len(fit.images) // plan.BATCH_SIZE) * epochs
    step.compile(model, updates)
    timer = helpers.EpochTimer()
    started = time.perf_counter()
    history = model.fit(
        helpers.batched_dataset(fit, plan.BATCH_SIZE, shuffle_seed=seed),
        epochs=epochs,
        validation_data=helpers.batched_dataset(validation, helpers.EVALUATION_BATCH),
        callbacks=[timer],
        shuffle=False,  # batched_dataset already reshuffles every epoch
        verbose=0,
    ).history
    minutes = (time.perf_counter() - started) / 60
    on_validation = predictions(model, validation.images)
    record = {
        "step": step.name,
        "change": step.change,
        "sweep": step.sweep,
        "seed": seed,
        "budget": epochs,
        "precision": policy,
        "threads": threads,
        "minutes": round(minutes, 2),
        "parameters": model.count_params(),
        "multiply_adds": helpers.beyond.forward_multiply_adds(model),
        "tflop": round(plan.training_tflop(model, len(fit.images), epochs), 2),
        "validation_accuracy": accuracy(on_validation["plain"], validation.labels),
        "validation_accuracy_shifted": accuracy(on_validation["shifted"], validation.labels),
        # Measured by fit after each epoch, with the weights of that moment (not their moving average).
        "validation_accuracy_per_epoch": [round(value, 4) for value in history["val_accuracy"]],
        "epoch_seconds": [round(seconds, 1) for seconds in timer.seconds],
    }
    result = {"record": record, "validation": on_validation, "validation_labels": validation.labels}
    if step.name == plan.FINAL.name:
        on_test = predictions(model, test.images)  # the test set's one use for this network
        record["test_accuracy"] = accuracy(on_test["plain"], test.labels)
        record["test_accuracy_shifted"] = accuracy(on_test["shifted"], test.labels)
        result["test"], result["test_labels"] = on_test, test.labels
    record["peak_memory_mb"] = round(peak_memory_mb())
    return result


def splits(short: bool):
    """The 55,000 training images, the 5,000 validation images held out of them, and the test set."""
    import helpers

    (x_train, y_train), (x_test, y_test) = helpers.load_mnist()
    fit, validation = helpers.stratified_holdout(
        helpers.prepare(x_train, y_train), VALIDATION_IMAGES, helpers.SEED
    )
    test = helpers.prepare(x_test, y_test)
    if short:
        return fit.head(SHORT_FIT), validation.head(SHORT_VALIDATION), test.head(SHORT_TEST)
    return fit, validation, test


def predictions(model, images):
    """The model's probabilities for `images`, as they are and averaged over the test-time shifts."""
    from study_plan import predict_with_shifts

    import helpers

    return {
        "plain": model.predict(images, batch_size=helpers.EVALUATION_BATCH, verbose=0),
        "shifted": predict_with_shifts(model, images),  # 08's own function, in batches of 250
    }


def accuracy(probabilities, labels) -> float:
    """The share of images whose most probable digit is the label."""
    import numpy as np

    return round(float(np.mean(np.asarray(probabilities).argmax(axis=1) == labels)), 4)


def mean_text(values: list[float]) -> str:
    """'0.9954' for one value; the mean and the range in brackets for several."""
    if not values:
        return "–"
    text = f"{statistics.mean(values):.4f}"
    return text + (f" ({min(values):.4f}–{max(values):.4f})" if len(values) > 1 else "")


def table(runs: list[dict], ensemble: dict | None) -> str:
    """Markdown table: one row per step (the mean of its seeds, the range in brackets), then the ensemble."""
    rows = []
    for name in dict.fromkeys(run["step"] for run in runs):
        same = [run for run in runs if run["step"] == name]
        rows.append(
            [
                name,
                same[0]["change"],
                len(same),
                mean_text([run["validation_accuracy"] for run in same]),
                mean_text([run["validation_accuracy_shifted"] for run in same]),
                mean_text([run["test_accuracy"] for run in same if "test_accuracy" in run]),
                mean_text([run["test_accuracy_shifted"] for run in same if "test_accuracy" in run]),
                f"{same[0]['tflop']:.1f}",
                f"{statistics.mean(run['minutes'] for run in same):.1f}",
            ]
        )
    if ensemble:
        rows.append(
            [
                "ensemble",
                f"average of the {ensemble['models']} final networks",
                ensemble["models"],
                f"{ensemble['validation_accuracy']:.4f}",
                f"{ensemble['validation_accuracy_shifted']:.4f}",
                f"{ensemble['test_accuracy']:.4f}",
                f"{ensemble['test_accuracy_shifted']:.4f}",
                f"{ensemble['tflop']:.1f}",
                f"{ensemble['minutes']:.1f}",
            ]
        )
    return markdown_table(COLUMNS, rows)


def sweep_table(runs: list[dict], centre: dict | None) -> str:
    """Markdown table of the sweep: each setting's values, the final network's own (seed 1) among them."""
    rows = []
    settings = dict.fromkeys(key for run in runs for key in run["sweep"])
    for setting in settings:
        points = [run for run in runs if setting in run["sweep"]]
        if centre:
            points.append({**centre, "sweep": {setting: "final network's"}})
        for run in points:
            rows.append(
                [
                    setting,
                    run["sweep"][setting],
                    f"{run['validation_accuracy']:.4f}",
                    f"{run['validation_accuracy_shifted']:.4f}",
                    f"{run['tflop']:.1f}",
                    f"{run['minutes']:.1f}",
                ]
            )
    columns = ("setting", "value", "validation", "+ shifts", "TFLOP", "minutes")
    return markdown_table(columns, rows)


def ensemble_of(results: list[dict]) -> dict | None:
    """The final networks' averaged probabilities, scored on the validation and the test set."""
    import numpy as np

    finals = [result for result in results if "test" in result]
    if len(finals) < 2:
        return None
    ensemble = {"models": len(finals), "seeds": [result["record"]["seed"] for result in finals]}
    for split in ("validation", "test"):
        truth = finals[0][f"{split}_labels"]
        for way, suffix in (("plain", ""), ("shifted", "_shifted")):
            averaged = np.mean([result[split][way] for result in finals], axis=0)
            ensemble[f"{split}_accuracy{suffix}"] = accuracy(averaged, truth)
    for key in ("tflop", "minutes", "parameters"):
        ensemble[key] = round(sum(result["record"][key] for result in finals), 2)
    return ensemble


def main() -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds of every step")
    parser.add_argument("--steps", nargs="*", help="train only these steps (none: only the sweep)")
    parser.add_argument(
        "--no-sweep", action="store_true", help="leave out the sweep around the final network"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, each with 1/JOBS of the cores")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the runs of --json's study that this plan does not train again",
    )
    add_short_option(parser, "a few hundred images, one epoch")
    add_json_option(parser, "write the runs and the tables here")
    args = parser.parse_args()
    refuse_negative_seeds(parser, args.seeds, "--seeds")
    cores = len(os.sched_getaffinity(0))
    if not 1 <= args.jobs <= cores:
        parser.error(f"--jobs must be between 1 and the {cores} cores this process may use, got {args.jobs}")

    from study_plan import FINAL, STEPS, SWEEP  # each run's own process imports TensorFlow again

    steps = list(STEPS)
    if args.steps is not None:
        unknown = sorted(set(args.steps) - {step.name for step in STEPS})
        if unknown:
            parser.error(f"unknown steps {unknown}; choose from {[step.name for step in STEPS]}")
        steps = [step for step in STEPS if step.name in args.steps]
    plan = [(step.name, seed) for step in steps for seed in args.seeds]
    plan += [] if args.no_sweep else [(point.name, SWEEP_SEED) for point in SWEEP]
    shown_order = {step.name: index for index, step in enumerate((*STEPS, *SWEEP))}
    plan.sort(key=lambda run: run[0] != FINAL.name)  # the final network's runs first
    kept = []
    if args.keep:
        if args.json is None or not args.json.is_file():
            parser.error("--keep adds to the study in --json PATH, which must exist")
        kept = [
            run
            for run in json.loads(args.json.read_text())["runs"]
            if (run["step"], run["seed"]) not in set(plan) and run["step"] in shown_order
        ]

    report = {
        "date": utc_now(),
        "cpu": cpu_name(),
        "cores": cores,
        "jobs": args.jobs,
        "short": args.short,
        "fit_images": SHORT_FIT if args.short else 55_000,
        "validation_images": SHORT_VALIDATION if args.short else VALIDATION_IMAGES,
        "runs": list(kept),
    }
    results = []
    # A fresh interpreter per run: its own TensorFlow, thread count and memory. Short runs, which only check
    # the script, share each worker's, so that they do not pay for importing TensorFlow every time.
    context = get_context("spawn")
    per_worker = None if args.short else 1
    with ProcessPoolExecutor(args.jobs, mp_context=context, max_tasks_per_child=per_worker) as pool:
        futures = [pool.submit(train_one, name, seed, args.short, cores // args.jobs) for name, seed in plan]
        for future in as_completed(futures):
            result = future.result()
            record = result["record"]
            results.append(result)
            report["runs"].append(record)
            report["precision"] = record["precision"]
            shown = f", test {record['test_accuracy']:.4f}" if "test_accuracy" in record else ""
            print(
                f"{record['step']:<28} seed {record['seed']}: "
                f"validation {record['validation_accuracy']:.4f} "
                f"({record['validation_accuracy_shifted']:.4f} with shifts){shown}, "
                f"{record['tflop']:.1f} TFLOP, {record['minutes']:.1f} min",
                flush=True,
            )
            save_progress(args.json, report)

    report["runs"].sort(key=lambda run: (shown_order[run["step"]], run["seed"]))
    step_runs = [run for run in report["runs"] if not run["sweep"]]
    sweep_runs = [run for run in report["runs"] if run["sweep"]]
    report["ensemble"] = ensemble_of(sorted(results, key=lambda result: result["record"]["seed"]))
    report["table"] = table(step_runs, report["ensemble"])
    centre = next((run for run in step_runs if run["step"] == FINAL.name and run["seed"] == SWEEP_SEED), None)
    report["sweep_table"] = sweep_table(sweep_runs, centre) if sweep_runs else ""
    header = heading(report["date"], report["cpu"], report.get("precision", "?"), args.short)
    print(f"\n{header}\n\n{report['table']}\n\n{report['sweep_table']}")
    save_final(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
