"""The tabular part of the corpus (issue 19), called by make_corpus.py: two models over ok/'s
4-3-2 weights, one with two float targets (mse), one with two 0/1 labels
(binary_cross_entropy), the targets in the last two columns; and the ways tabular data and
keys are wrong."""
import json


def models(MODEL):
    """(regression, binary) model dicts reading ok/regression.csv and ok/binary.csv."""
    h = MODEL["layers"][0]
    regression = dict(MODEL, layers=[h, {"name": "out", "units": 2, "activation": "linear"}], loss="mse",
                      data={"format": "csv", "train": "regression.csv", "target_columns": [4, 5], "scaling": "none"})
    binary = dict(MODEL, layers=[h, {"name": "out", "units": 2, "activation": "sigmoid"}], loss="binary_cross_entropy",
                  data={"format": "csv", "train": "binary.csv", "target_columns": [4, 5], "scaling": "none"})
    return regression, binary


def target_rows(n, binary, bad_row=None, bad_cell=None):
    """n rows of 4 features and 2 targets; row bad_row's first target is bad_cell."""
    lines = []
    for i in range(n):
        feats = ["%.2f" % (0.1 * ((i * 3 + j) % 7)) for j in range(4)]
        t = [str(i % 2), str((i // 2) % 2)] if binary else ["%.2f" % (0.5 * i), "%.2f" % (1.0 - 0.1 * i)]
        if i == bad_row:
            t[0] = bad_cell
        lines.append(",".join(feats + t))
    return "\n".join(lines) + "\n"


def weighted_rows(n, bad_row=None, bad_cell=None, all_zero=False):
    """target_rows(n, False) with a sample weight in a seventh column; row bad_row's is bad_cell."""
    lines = target_rows(n, False).splitlines()
    out = []
    for i, line in enumerate(lines):
        w = "0" if all_zero else bad_cell if i == bad_row else "%.1f" % (0.5 * (i % 3))
        out.append(line + "," + w)
    return "\n".join(out) + "\n"


def weighted_model(MODEL):
    regression, _ = models(MODEL)
    return dict(regression, data=dict(regression["data"], train="weighted.csv", weight_column=6))


def ok_models(write, MODEL):
    regression, binary = models(MODEL)
    write("ok/regression.json", json.dumps(regression, indent=1) + "\n")
    write("ok/binary.json", json.dumps(binary, indent=1) + "\n")
    write("ok/weighted.json", json.dumps(weighted_model(MODEL), indent=1) + "\n")
    write("ok/regression.csv", target_rows(8, False))
    write("ok/binary.csv", target_rows(8, True))
    write("ok/weighted.csv", weighted_rows(8))


def cases(case, MODEL, model_with, layer_with, M, INSPECT, TRAIN):
    """Targets that do not fit the loss, bad target cells, bad tabular keys."""
    regression, _ = models(MODEL)
    weights = "--threads 1 --weights {corpus}/ok/weights.safetensors --data {file}"
    eval_regression = "eval {corpus}/ok/regression.json " + weights
    eval_binary = "eval {corpus}/ok/binary.json " + weights
    case("csv/target_nan.csv", target_rows(6, False, 3, "nan"), eval_regression, 2, ":4:21:", "target column 4",
         "not a finite number")
    case("csv/target_inf.csv", target_rows(6, False, 2, "-inf"), eval_regression, 2, ":3:21:", "target column 4",
         "not a finite number")
    case("csv/target_column_missing.csv", "\n".join(",".join(["0.5"] * 5) for _ in range(4)) + "\n", eval_regression,
         2, ":1:", "target column 5 does not exist", "5 columns")
    case("csv/binary_target_half.csv", target_rows(6, True, 4, "0.5"), eval_binary, 2, "sample 4, target column 0",
         "expected 0 or 1")
    data = dict(regression["data"], train="../ok/regression.csv")
    case(M + "cross_entropy_float_targets.json", json.dumps(dict(MODEL, data=data), indent=1), TRAIN, 2,
         "data.target_columns", "float targets", "cross_entropy")
    case(M + "targets_outputs_mismatch.json",
         json.dumps(dict(regression, layers=[MODEL["layers"][0], {"name": "out", "units": 3}], data=data), indent=1),
         TRAIN, 2, "data.target_columns", "2 target columns", "3 outputs")
    for name, fraction in (("test_split_one.json", 1), ("test_split_zero.json", 0)):
        case(M + name, model_with(data={"format": "csv", "train": "x.csv", "test_split": fraction}), INSPECT, 2,
             "data.test_split", "a fraction greater than 0 and less than 1")
    case(M + "l2_negative.json", layer_with(0, l2=-0.1), INSPECT, 2, "layers[0].l2", "a penalty factor >= 0")
    case(M + "huber_delta_zero.json", model_with(loss={"name": "huber", "delta": 0}), INSPECT, 2, "loss.delta",
         "a finite number > 0")
    case(M + "clip_norm_zero.json", model_with(training={"clip_norm": 0}), INSPECT, 2, "clip_norm", "> 0")
    case(M + "class_weights_count.json", model_with(loss={"name": "cross_entropy", "class_weights": [1, 2, 3]}), INSPECT,
         2, "loss.class_weights", "3 weights for the last layer's 2 units")
    case(M + "class_weights_zero.json", model_with(loss={"name": "cross_entropy", "class_weights": [1, 0]}), INSPECT, 2,
         "loss.class_weights[1]", "a finite number > 0")
    # Sample weights (data.weight_column) and binary_cross_entropy's pos_weight.
    eval_weighted = "eval {corpus}/ok/weighted.json " + weights
    case("csv/weight_negative.csv", weighted_rows(6, 2, "-0.5"), eval_weighted, 2, ":3:", "weight column 6",
         "\"-0.5\"", "a finite number >= 0")
    case("csv/weight_nan.csv", weighted_rows(6, 4, "nan"), eval_weighted, 2, ":5:", "weight column 6",
         "a finite number >= 0")
    case("csv/weights_all_zero.csv", weighted_rows(5, all_zero=True), eval_weighted, 2, "every sample weight",
         "column 6", "is 0")
    case("csv/weight_column_missing.csv", target_rows(5, False), eval_weighted, 2, ":1:",
         "weight column 6 does not exist", "6 columns")
    wdata = dict(weighted_model(MODEL)["data"], train="../ok/weighted.csv", weight_column=4)
    case(M + "weight_column_is_target.json", json.dumps(dict(weighted_model(MODEL), data=wdata), indent=1), INSPECT, 2,
         "data.weight_column", "column 4 is also the label or a target column")
    _, binary = models(MODEL)
    for name, pw, fragments in (("pos_weight_zero.json", 0, ("loss.pos_weight", "a weight > 0")),
                                ("pos_weight_negative_label.json", [1, -2], ("loss.pos_weight[1]", "> 0")),
                                ("pos_weight_count.json", [1, 2, 3], ("loss.pos_weight", "3 weights", "2 units"))):
        case(M + name, json.dumps(dict(binary, loss={"name": "binary_cross_entropy", "pos_weight": pw}), indent=1),
             INSPECT, 2, *fragments)
    case(M + "pos_weight_for_mse.json", model_with(loss={"name": "mse", "pos_weight": 2}), INSPECT, 2,
         "loss.pos_weight", "binary_cross_entropy")
    case(M + "class_weights_multilabel.json",
         json.dumps(dict(binary, loss={"name": "binary_cross_entropy", "class_weights": [1, 2]}), indent=1), INSPECT,
         2, "loss.class_weights", "given for 2 labels", "pos_weight")
