//! Plain SVG charts of a team report, for `shoal report --svg DIR` and the
//! desktop app's Reports view: a line chart and a bar chart, written by hand
//! (no charting dependency for four small pictures), each with a title and
//! its numbers in words for screen readers.

use std::fmt::Write as _;

const W: f64 = 640.0;
const H: f64 = 320.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 48.0;
const COLORS: [&str; 6] = [
    "#2f6fdf", "#c0712a", "#3a9a5b", "#8a4fc7", "#c43d5a", "#6b6b6b",
];
/// Named series a breakdown chart shows; the rest are summed as "other".
const BREAKDOWN_TOP: usize = 4;

/// One named series; `None` where a week has no value.
pub struct Series<'a> {
    /// Shown in the legend.
    pub name: &'a str,
    /// One value per x label.
    pub values: Vec<Option<f64>>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A "nice" top for the y axis: 1, 2 or 5 times a power of ten.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * power)
}

fn frame(out: &mut String, title: &str, desc: &str, labels: &[String], top: f64, unit: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
         role=\"img\" aria-labelledby=\"t d\" font-family=\"sans-serif\" font-size=\"11\">\
         <title id=\"t\">{}</title><desc id=\"d\">{}</desc>\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\
         <text x=\"{LEFT}\" y=\"22\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">{}</text>",
        escape(title),
        escape(desc),
        escape(title)
    );
    let plot_h = H - TOP - BOTTOM;
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}{unit}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            trim(v)
        );
    }
    let step = (W - LEFT - RIGHT) / labels.len().max(1) as f64;
    for (i, label) in labels.iter().enumerate() {
        let x = LEFT + step * (i as f64 + 0.5);
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            H - BOTTOM + 16.0,
            escape(label.get(5..).unwrap_or(label))
        );
    }
}

fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn legend(out: &mut String, series: &[Series<'_>]) {
    let spacing = ((W - LEFT - RIGHT) / series.len().max(1) as f64).min(150.0);
    for (i, s) in series.iter().enumerate() {
        let x = LEFT + spacing * i as f64;
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{:.1}\" fill=\"#222\">{}</text>",
            H - 20.0,
            COLORS[i % COLORS.len()],
            x + 14.0,
            H - 11.0,
            escape(s.name)
        );
    }
}

fn describe(labels: &[String], series: &[Series<'_>], unit: &str) -> String {
    series
        .iter()
        .map(|s| {
            let points: Vec<String> = labels
                .iter()
                .zip(&s.values)
                .map(|(l, v)| match v {
                    Some(v) => format!("{l}: {}{unit}", trim(*v)),
                    None => format!("{l}: none"),
                })
                .collect();
            format!("{}: {}.", s.name, points.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The frame of a chart of `series` (title, axes, labels) and the top of
/// its y axis.
fn start(title: &str, labels: &[String], series: &[Series<'_>], unit: &str) -> (String, f64) {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let top = nice_max(max);
    let mut out = String::new();
    frame(
        &mut out,
        title,
        &describe(labels, series, unit),
        labels,
        top,
        unit,
    );
    (out, top)
}

/// A line chart of `series` over the weeks `labels`.
pub fn lines(title: &str, labels: &[String], series: &[Series<'_>], unit: &str) -> String {
    let (mut out, top) = start(title, labels, series, unit);
    let plot_h = H - TOP - BOTTOM;
    let step = (W - LEFT - RIGHT) / labels.len().max(1) as f64;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<(f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(k, v)| {
                v.map(|v| {
                    (
                        LEFT + step * (k as f64 + 0.5),
                        TOP + plot_h - plot_h * (v / top),
                    )
                })
            })
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        for (x, y) in points {
            let _ = write!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{color}\"/>"
            );
        }
    }
    legend(&mut out, series);
    out.push_str("</svg>\n");
    out
}

/// A bar chart of one or more `series` side by side per week.
pub fn bars(title: &str, labels: &[String], series: &[Series<'_>], unit: &str) -> String {
    let (mut out, top) = start(title, labels, series, unit);
    let plot_h = H - TOP - BOTTOM;
    let step = (W - LEFT - RIGHT) / labels.len().max(1) as f64;
    let width = step * 0.7 / series.len().max(1) as f64;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        for (k, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let h = plot_h * (v / top);
            let x = LEFT + step * k as f64 + step * 0.15 + width * i as f64;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{h:.1}\" fill=\"{color}\"/>",
                TOP + plot_h - h
            );
        }
    }
    legend(&mut out, series);
    out.push_str("</svg>\n");
    out
}

/// One week's counts by some key (channel, tag, tier, feature).
type Counts = fn(&crate::report::Week) -> &std::collections::BTreeMap<String, u32>;

/// The weekly counts of `pick` as series: the `BREAKDOWN_TOP` keys with the
/// largest totals by name, the remaining keys summed as "other".
fn breakdown(weeks: &[crate::report::Week], pick: Counts) -> Vec<(String, Vec<Option<f64>>)> {
    let mut totals: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for w in weeks {
        for (k, n) in pick(w) {
            *totals.entry(k.as_str()).or_default() += n;
        }
    }
    let mut keys: Vec<(&str, u32)> = totals.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let (shown, rest) = keys.split_at(keys.len().min(BREAKDOWN_TOP));
    let mut series: Vec<(String, Vec<Option<f64>>)> = shown
        .iter()
        .map(|(k, _)| {
            let values = weeks
                .iter()
                .map(|w| Some(f64::from(pick(w).get(*k).copied().unwrap_or(0))))
                .collect();
            ((*k).to_owned(), values)
        })
        .collect();
    if !rest.is_empty() {
        let values = weeks
            .iter()
            .map(|w| {
                let n: u32 = rest.iter().filter_map(|(k, _)| pick(w).get(*k)).sum();
                Some(f64::from(n))
            })
            .collect();
        series.push(("other".to_owned(), values));
    }
    series
}

fn as_series(named: &[(String, Vec<Option<f64>>)]) -> Vec<Series<'_>> {
    named
        .iter()
        .map(|(name, values)| Series {
            name,
            values: values.clone(),
        })
        .collect()
}

/// The report's charts, each with a file name: response times, resolution
/// time, volume and backlog, answers within target, how conversations were
/// closed, volume by channel, by tier and by tag, and feature requests.
pub fn charts(report: &crate::report::Report) -> Vec<(&'static str, String)> {
    let labels: Vec<String> = report.weeks.iter().map(|w| w.week.clone()).collect();
    let hours = |v: Option<i64>| v.map(|ms| ms as f64 / 3_600_000.0);
    // Resolution in days, or in hours while the team resolves within two days.
    let longest = report
        .weeks
        .iter()
        .filter_map(|w| w.resolution.p90_ms)
        .max()
        .unwrap_or(0);
    let (per, res_unit) = if longest < 2 * 86_400_000 {
        (3_600_000.0, " h")
    } else {
        (86_400_000.0, " d")
    };
    let days = |v: Option<i64>| v.map(|ms| ms as f64 / per);
    let weeks = &report.weeks;
    vec![
        (
            "response-times.svg",
            lines(
                "Response times (business hours)",
                &labels,
                &[
                    Series {
                        name: "first, median",
                        values: weeks
                            .iter()
                            .map(|w| hours(w.first_response.median_ms))
                            .collect(),
                    },
                    Series {
                        name: "first, 90th percentile",
                        values: weeks
                            .iter()
                            .map(|w| hours(w.first_response.p90_ms))
                            .collect(),
                    },
                    Series {
                        name: "next, median",
                        values: weeks
                            .iter()
                            .map(|w| hours(w.next_response.median_ms))
                            .collect(),
                    },
                ],
                " h",
            ),
        ),
        (
            "resolution.svg",
            lines(
                "Resolution time (opening to closing)",
                &labels,
                &[
                    Series {
                        name: "median",
                        values: weeks.iter().map(|w| days(w.resolution.median_ms)).collect(),
                    },
                    Series {
                        name: "90th percentile",
                        values: weeks.iter().map(|w| days(w.resolution.p90_ms)).collect(),
                    },
                ],
                res_unit,
            ),
        ),
        (
            "volume.svg",
            bars(
                "Conversations opened, and the backlog at each week's end",
                &labels,
                &[
                    Series {
                        name: "opened",
                        values: weeks.iter().map(|w| Some(f64::from(w.opened))).collect(),
                    },
                    Series {
                        name: "backlog",
                        values: weeks
                            .iter()
                            .map(|w| Some(f64::from(w.backlog_at_end)))
                            .collect(),
                    },
                ],
                "",
            ),
        ),
        (
            "within-target.svg",
            bars(
                "Answers within their response target",
                &labels,
                &[Series {
                    name: "within target",
                    values: weeks
                        .iter()
                        .map(|w| w.target_rate.map(|r| r * 100.0))
                        .collect(),
                }],
                "%",
            ),
        ),
        (
            "closes.svg",
            bars(
                "How conversations were closed",
                &labels,
                &[
                    Series {
                        name: "customer confirmed",
                        values: weeks
                            .iter()
                            .map(|w| Some(f64::from(w.closed_confirmed)))
                            .collect(),
                    },
                    Series {
                        name: "no reply (silent)",
                        values: weeks
                            .iter()
                            .map(|w| Some(f64::from(w.closed_no_reply)))
                            .collect(),
                    },
                    Series {
                        name: "other",
                        values: weeks
                            .iter()
                            .map(|w| Some(f64::from(w.closed_other)))
                            .collect(),
                    },
                ],
                "",
            ),
        ),
        (
            "volume-by-channel.svg",
            bars(
                "Conversations opened, by channel",
                &labels,
                &as_series(&breakdown(weeks, |w| &w.by_channel)),
                "",
            ),
        ),
        (
            "volume-by-tier.svg",
            bars(
                "Conversations opened, by customer tier",
                &labels,
                &as_series(&breakdown(weeks, |w| &w.by_tier)),
                "",
            ),
        ),
        (
            "volume-by-tag.svg",
            bars(
                "Conversations opened, by tag",
                &labels,
                &as_series(&breakdown(weeks, |w| &w.by_tag)),
                "",
            ),
        ),
        (
            "feature-requests.svg",
            lines(
                "Feature requests",
                &labels,
                &as_series(&feature_series(weeks)),
                "",
            ),
        ),
    ]
}

/// All feature requests, then the most requested features by name.
fn feature_series(weeks: &[crate::report::Week]) -> Vec<(String, Vec<Option<f64>>)> {
    let mut series = vec![(
        "all requests".to_owned(),
        weeks
            .iter()
            .map(|w| Some(f64::from(w.feature_requests)))
            .collect(),
    )];
    series.extend(
        breakdown(weeks, |w| &w.features)
            .into_iter()
            .filter(|(name, _)| name != "other"),
    );
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks() -> Vec<String> {
        vec!["2026-11-30".into(), "2026-12-07".into()]
    }

    #[test]
    fn a_line_chart_is_svg_with_its_numbers_in_words() {
        let svg = lines(
            "First response",
            &weeks(),
            &[Series {
                name: "median",
                values: vec![Some(1.5), None],
            }],
            " h",
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<title id=\"t\">First response</title>"));
        assert!(
            svg.contains("median: 2026-11-30: 1.5 h, 2026-12-07: none."),
            "{svg}"
        );
        assert_eq!(
            svg.matches("<circle").count(),
            1,
            "no point for a week without data"
        );
    }

    #[test]
    fn bars_scale_to_a_nice_top() {
        let svg = bars(
            "Opened <& closed>",
            &weeks(),
            &[Series {
                name: "opened",
                values: vec![Some(3.0), Some(7.0)],
            }],
            "",
        );
        assert!(svg.contains("Opened &lt;&amp; closed&gt;"));
        assert!(svg.contains(">10</text>"), "the axis tops at 10: {svg}");
        assert_eq!(
            svg.matches("<rect x=").count(),
            2 + 1,
            "two bars and a legend key"
        );
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(42.0), 50.0);
    }

    #[test]
    fn a_breakdown_shows_the_largest_keys_and_sums_the_rest() {
        let week = |pairs: &[(&str, u32)]| crate::report::Week {
            by_tag: pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
            ..Default::default()
        };
        let weeks = vec![
            week(&[("a", 5), ("b", 1), ("c", 2), ("d", 2), ("e", 1), ("f", 1)]),
            week(&[("b", 4), ("f", 3)]),
        ];
        let series = breakdown(&weeks, |w| &w.by_tag);
        let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
        // Totals: a 5, b 5, f 4, c 2, d 2, e 1; ties by name.
        assert_eq!(names, ["a", "b", "f", "c", "other"]);
        assert_eq!(series[1].1, [Some(1.0), Some(4.0)]);
        assert_eq!(series[4].1, [Some(3.0), Some(0.0)], "d and e summed");
        let few = breakdown(&weeks[1..], |w| &w.by_tag);
        assert_eq!(few.len(), 2, "no `other` when every key is shown");
    }

    #[test]
    fn every_chart_of_a_report_is_svg() {
        let report = crate::report::Report {
            time_zone: "UTC".into(),
            weeks: vec![crate::report::Week {
                week: "2026-11-30".into(),
                ..Default::default()
            }],
        };
        let all = charts(&report);
        assert_eq!(all.len(), 9);
        for (name, svg) in all {
            assert!(name.ends_with(".svg"));
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        }
    }
}
