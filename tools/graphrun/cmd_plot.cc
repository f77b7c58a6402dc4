// graphrun plot / plot-activations: plain SVG charts (no script, no external resource) that any
// browser shows. `plot` draws a history.csv's loss and accuracy, train and validation, per
// epoch; `plot-activations` draws each activation plugin's f(x) and f'(x) over [-6, 6],
// computed by the plugin's own forward and backward kernels (f' = backward with d_dst = 1).
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "graphrun/plugin.h"
#include "io/atomic_file.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/session.h"
#include "train/fit.h"

namespace graphrun::tool {
namespace {

struct Series {
  std::string label, color;
  bool dashed = false;
  std::vector<double> x, y;  // NaN y values are gaps
};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Ticks at 1, 2 or 5 times a power of ten covering [lo, hi].
std::vector<double> nice_ticks(double& lo, double& hi, int target = 5) {
  if (!(hi > lo)) {
    const double pad = std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1.0;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (double t = lo; t <= hi + step * 1e-6; t += step) ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double v) { return fmt::format("{:.6g}", v); }

// One chart with axes, ticks, grid, axis labels and a legend, in the box (x, y, w, h).
std::string chart(double x, double y, double w, double h, const std::string& title, const std::string& xlabel,
                  const std::string& ylabel, const std::vector<Series>& series, bool integer_x = false) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  std::vector<double> xt = nice_ticks(x0, x1, integer_x ? std::min(8, static_cast<int>(x1 - x0) + 1) : 6);
  if (integer_x) {
    std::vector<double> keep;
    for (double t : xt) {
      if (std::abs(t - std::round(t)) < 1e-9) keep.push_back(t);
    }
    xt = keep;
  }
  std::vector<double> yt = nice_ticks(y0, y1, 5);
  const double left = x + 64, right = x + w - 12, top = y + 34, bottom = y + h - 46;
  auto px = [&](double v) { return left + (v - x0) / (x1 - x0) * (right - left); };
  auto py = [&](double v) { return bottom - (v - y0) / (y1 - y0) * (bottom - top); };
  std::string s;
  s += fmt::format(
      "<g class=\"chart\">\n<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"15\" "
      "font-weight=\"bold\">{}</text>\n",
      (left + right) / 2, y + 20, escape(title));
  for (double t : xt) {
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e4e4e4\"/>"
        "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\" stroke=\"#333\"/>"
        "<text x=\"{0:.1f}\" y=\"{4:.1f}\" text-anchor=\"middle\" font-size=\"11\">{5}</text>\n",
        px(t), top, bottom, bottom + 5, bottom + 18, tick_label(t));
  }
  for (double t : yt) {
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#e4e4e4\"/>"
        "<line x1=\"{3:.1f}\" y1=\"{2:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>"
        "<text x=\"{4:.1f}\" y=\"{5:.1f}\" text-anchor=\"end\" font-size=\"11\">{6}</text>\n",
        left, right, py(t), left - 5, left - 8, py(t) + 4, tick_label(t));
  }
  s += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\"/>\n", left, top,
      right - left, bottom - top);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
                   (left + right) / 2, bottom + 36, escape(xlabel));
  s += fmt::format(
      "<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
      x + 16, (top + bottom) / 2, escape(ylabel));
  for (const Series& ser : series) {
    std::string d;
    bool pen = false;
    int points = 0;
    for (size_t i = 0; i < ser.x.size(); ++i) {
      if (!std::isfinite(ser.y[i])) {
        pen = false;
        continue;
      }
      d += fmt::format("{}{:.2f},{:.2f} ", pen ? "L" : "M", px(ser.x[i]), py(ser.y[i]));
      pen = true;
      ++points;
    }
    if (points == 0) continue;
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", d, ser.color,
                     ser.dashed ? " stroke-dasharray=\"6,4\"" : "");
    if (integer_x && ser.x.size() <= 60) {
      for (size_t i = 0; i < ser.x.size(); ++i) {
        if (std::isfinite(ser.y[i])) {
          s += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"2.5\" fill=\"{}\"/>", px(ser.x[i]), py(ser.y[i]),
                           ser.color);
        }
      }
      s += "\n";
    }
  }
  // Legend: sized to its longest label, in the corner of the plot area covering fewest points.
  size_t longest = 0;
  for (const Series& ser : series) longest = std::max(longest, ser.label.size());
  const double lw = 46 + 7.0 * static_cast<double>(longest), lh = 18.0 * static_cast<double>(series.size()) + 6;
  const double corners[4][2] = {
      {right - lw - 8, top + 4}, {right - lw - 8, bottom - lh - 4}, {left + 8, top + 4}, {left + 8, bottom - lh - 4}};
  size_t best = 0, best_count = SIZE_MAX;
  for (size_t c = 0; c < 4; ++c) {
    size_t count = 0;
    for (const Series& ser : series) {
      for (size_t i = 0; i < ser.x.size(); ++i) {
        if (!std::isfinite(ser.y[i])) continue;
        const double qx = px(ser.x[i]), qy = py(ser.y[i]);
        count += qx >= corners[c][0] && qx <= corners[c][0] + lw && qy >= corners[c][1] && qy <= corners[c][1] + lh;
      }
    }
    if (count < best_count) best = c, best_count = count;
  }
  const double lx = corners[best][0];
  double ly = corners[best][1] + 4;
  s += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"white\" fill-opacity=\"0.85\" "
      "stroke=\"#999\"/>\n",
      lx, ly - 4, lw, lh);
  for (const Series& ser : series) {
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text>\n",
        lx + 6, ly + 8, lx + 32, ly + 8, ser.color, ser.dashed ? " stroke-dasharray=\"6,4\"" : "", lx + 38, ly + 12,
        escape(ser.label));
    ly += 18;
  }
  s += "</g>\n";
  return s;
}

std::string svg_document(double w, double h, const std::string& title, const std::string& body) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<title>{2}</title>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{3}</svg>\n",
      w, h, escape(title), body);
}

void write_svg(const std::string& path, const std::string& svg) {
  io::write_file_atomically(path, std::as_bytes(std::span<const char>(svg.data(), svg.size())));
  fmt::print("wrote {}\n", path);
}

bool any_finite(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double d) { return std::isfinite(d); });
}

int run_plot(const PlotArgs& a) {
  require_file(a.history, "history");
  const std::vector<train::HistoryRow> rows = train::read_history_csv(a.history);
  std::vector<double> epoch, loss, acc, vloss, vacc, lr;
  for (const train::HistoryRow& r : rows) {
    epoch.push_back(static_cast<double>(r.epoch));
    loss.push_back(r.loss);
    acc.push_back(r.accuracy);
    vloss.push_back(r.val_loss);
    vacc.push_back(r.val_accuracy);
    lr.push_back(r.lr);
  }
  std::vector<Series> ls{{"train loss", "#1f77b4", false, epoch, loss}};
  std::vector<Series> as{{"train accuracy", "#1f77b4", false, epoch, acc}};
  if (any_finite(vloss)) ls.push_back({"validation loss", "#d62728", true, epoch, vloss});
  if (any_finite(vacc)) as.push_back({"validation accuracy", "#d62728", true, epoch, vacc});
  const bool with_lr = any_finite(lr);
  const double pw = 460, ph = 340, w = pw * (with_lr ? 3 : 2);
  std::string body = chart(0, 0, pw, ph, "Loss", "epoch", "cross-entropy", ls, true) +
                     chart(pw, 0, pw, ph, "Accuracy", "epoch", "accuracy", as, true);
  if (with_lr)
    body += chart(2 * pw, 0, pw, ph, "Learning rate", "epoch", "lr", {{"lr", "#2ca02c", false, epoch, lr}}, true);
  write_svg(a.output, svg_document(w, ph, "training history: " + a.history, body));
  return 0;
}

int run_plot_activations(const PlotActivationsArgs& a) {
  PluginRegistry& plugins = load_plugins(a.common);
  std::vector<const LoadedActivation*> acts;
  if (a.names.empty()) {
    for (const LoadedActivation* act : plugins.activations()) {
      if (act->entry->kind == GRAPHRUN_ACTIVATION_ELEMENTWISE) acts.push_back(act);
    }
  } else {
    for (const std::string& name : a.names) {
      const LoadedActivation& act = plugins.activation(name);
      if (act.entry->kind != GRAPHRUN_ACTIVATION_ELEMENTWISE) {
        throw Error(ErrorKind::BadInput, fmt::format("{} is row-wise (each output depends on the whole row): it has no "
                                                     "f(x) curve to plot",
                                                     name));
      }
      acts.push_back(&act);
    }
  }
  if (acts.empty()) throw Error(ErrorKind::BadInput, "no elementwise activation to plot");
  constexpr int kPoints = 481;  // [-6, 6] in steps of 0.025
  std::vector<float> x(kPoints), fx(kPoints), ones(kPoints, 1.0f), dfx(kPoints);
  for (int i = 0; i < kPoints; ++i) x[static_cast<size_t>(i)] = -6.0f + 12.0f * static_cast<float>(i) / (kPoints - 1);
  const int columns = std::min<int>(3, static_cast<int>(acts.size()));
  const int rows = (static_cast<int>(acts.size()) + columns - 1) / columns;
  const double pw = 400, ph = 300;
  std::string body;
  for (size_t k = 0; k < acts.size(); ++k) {
    const graphrun_activation* e = acts[k]->entry;
    const std::vector<double> params = resolve_params(e->params, e->n_params, {}, e->name);
    e->forward(x.data(), fx.data(), 1, kPoints, params.data());
    e->backward(x.data(), fx.data(), ones.data(), dfx.data(), 1, kPoints, params.data());
    Series f{fmt::format("{}(x)", e->name), "#1f77b4", false, {}, {}};
    Series d{fmt::format("{}'(x)", e->name), "#d62728", true, {}, {}};
    for (int i = 0; i < kPoints; ++i) {
      f.x.push_back(x[static_cast<size_t>(i)]);
      f.y.push_back(fx[static_cast<size_t>(i)]);
      d.x.push_back(x[static_cast<size_t>(i)]);
      d.y.push_back(dfx[static_cast<size_t>(i)]);
    }
    std::string title = e->name;
    for (uint32_t p = 0; p < e->n_params; ++p) title += fmt::format(" {}={:g}", e->params[p].name, params[p]);
    body += chart(pw * static_cast<double>(k % columns), ph * static_cast<double>(k / columns), pw, ph, title, "x",
                  "f(x), f'(x)", {f, d});
  }
  write_svg(a.output, svg_document(pw * columns, ph * rows, "activations and their derivatives", body));
  return 0;
}

}  // namespace

Command plot_command() {
  auto a = std::make_shared<PlotArgs>();
  return {"plot", "SVG of a history.csv: loss and accuracy per epoch, train and validation",
          [a](Options& o) {
            o.add("history", a->history, "history.csv (written by train --out)").required();
            o.add("--output,-o", a->output, "SVG file to write").show_default();
          },
          [a] { return run_plot(*a); }};
}

Command plot_activations_command() {
  auto a = std::make_shared<PlotActivationsArgs>();
  return {"plot-activations", "SVG of activations and their derivatives over [-6, 6]",
          [a](Options& o) {
            o.add("names", a->names, "Activation names (default: every elementwise one)");
            o.add("--output,-o", a->output, "SVG file to write").show_default();
            add_common_options(o, a->common, false);
          },
          [a] { return run_plot_activations(*a); }};
}

}  // namespace graphrun::tool
