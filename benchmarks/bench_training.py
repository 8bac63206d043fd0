"""Benchmark: each recipe trained as its own code would (float32), and through the series' path.

    python benchmarks/bench_training.py --json build/benchmark.json   # full: about 25 minutes here
    python benchmarks/bench_training.py --short                       # 1 epoch on a subset

"recipe float32" follows the write-ups' code: float32 layers, NumPy arrays handed
straight to fit(), validation on the test set where the recipe did it, and
Adadelta with learning rate 1.0 so that the accuracies are comparable. "series"
is what notebooks 03 and 04 run: recipe_training.train with the precision that
helpers.choose_precision() picks (bfloat16 mixed precision on CPUs with native
bfloat16) and a shuffled, prefetched tf.data pipeline. Both use the recipe's
network (built from its notebook's cell by lesson_networks.py), batch size,
epochs and seed. Each run is a separate process, so its
peak memory is its own. Prints a table and writes the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from reporting import (  # benchmarks/reporting.py, beside this script
    add_epochs_option,
    add_json_option,
    add_recipes_option,
    add_short_option,
    cpu_name,
    heading,
    markdown_table,
    mnist_splits,
    new_parser,
    peak_memory_mb,
    refuse_epochs_below_one,
    save_final,
    utc_now,
)

WAYS = ("recipe float32", "series")
COLUMNS = (
    "recipe",
    "way",
    "precision",
    "epochs",
    "s/epoch",
    "speed-up",
    "test accuracy",
    "test loss",
    "peak memory",
)


def train_once(recipe_name: str, way: str, epochs: int | None, short: bool) -> dict:
    """Train one recipe one way in this process and return its measurements."""
    import recipe_training
    from lesson_networks import build, lesson_recipe

    import helpers

    recipe = lesson_recipe(recipe_name)
    epochs = epochs or (1 if short else recipe.epochs)
    train, test = mnist_splits(short)

    helpers.seed_everything()
    policy = "float32" if way == "recipe float32" else helpers.choose_precision().policy
    model = build(recipe_name, policy)
    helpers.compile_with_adadelta(model, learning_rate=recipe.learning_rate)
    if way == "series":
        run = recipe_training.train(recipe, model, train, test, epochs=epochs, verbose=0)
        epoch_seconds, test_loss, test_accuracy = run.epoch_seconds, run.test_loss, run.test_accuracy
    else:
        timer = helpers.EpochTimer()
        validation = (test.images, test.targets) if recipe.name == "sequential" else None
        model.fit(
            train.images,
            train.targets,
            batch_size=recipe.batch_size,
            epochs=epochs,
            validation_data=validation,
            callbacks=[timer],
            verbose=0,
        )
        epoch_seconds = timer.seconds
        test_loss, test_accuracy = model.evaluate(test.images, test.targets, verbose=0)
    return {
        "recipe": recipe_name,
        "way": way,
        "precision": policy,
        "epochs": epochs,
        "training_images": len(train.images),
        "seconds_per_epoch": helpers.median_epoch_seconds(epoch_seconds),
        "epoch_seconds": [round(s, 2) for s in epoch_seconds],
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "peak_memory_mb": peak_memory_mb(),
    }


def run_in_child(recipe: str, way: str, epochs: int | None, short: bool) -> dict:
    """Train one recipe one way in a fresh process of this script, so its peak memory is its own."""
    command = [sys.executable, __file__, "--child", recipe, way]
    if epochs:
        command += ["--epochs", str(epochs)]
    if short:
        command.append("--short")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{recipe} / {way} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    """Markdown table: one row per run, its speed-up against the recipe's own float32 way."""
    baseline = {r["recipe"]: r["seconds_per_epoch"] for r in results if r["way"] == "recipe float32"}
    rows = []
    for r in results:
        ratio = baseline.get(r["recipe"], float("nan")) / r["seconds_per_epoch"]
        rows.append(
            [
                r["recipe"],
                r["way"],
                r["precision"],
                r["epochs"],
                f"{r['seconds_per_epoch']:.1f}",
                f"{ratio:.2f}x",
                f"{r['test_accuracy']:.4f}",
                f"{r['test_loss']:.4f}",
                f"{r['peak_memory_mb']:,.0f} MB",
            ]
        )
    return markdown_table(COLUMNS, rows)


def main() -> int:
    parser = new_parser(__doc__)
    add_short_option(parser)
    add_epochs_option(parser)
    add_recipes_option(parser)
    add_json_option(parser, "also write the results here")
    parser.add_argument("--child", nargs=2, metavar=("RECIPE", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    refuse_epochs_below_one(parser, args.epochs)

    if args.child:
        print(json.dumps(train_once(*args.child, args.epochs, args.short)))
        return 0

    started = utc_now()
    results = []
    for recipe in args.recipes:
        for way in WAYS:
            print(f"training {recipe} / {way} ...", flush=True)
            results.append(run_in_child(recipe, way, args.epochs, args.short))
    report = {
        "date": started,
        "cpu": cpu_name(),
        "cores": len(os.sched_getaffinity(0)),
        "short": args.short,
        "results": results,
    }
    print("\n" + heading(started, report["cpu"], f"{report['cores']} cores", args.short))
    print(table(results))
    save_final(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
