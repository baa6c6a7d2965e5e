//! SVG charts drawn with plotters' SVG backend.
//!
//! plotters is built without its font features: text goes into the SVG as `<text>` elements
//! that the browser lays out with its own sans-serif font, so nothing reads system fonts and the
//! output is the same on every machine. Every chart has a title, axis labels and, when it shows
//! more than one series, a legend.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::ReportError;

/// Width of every chart, pixels.
pub const WIDTH: u32 = 640;
/// Height of a standard chart, pixels.
pub const HEIGHT: u32 = 380;

/// The series colours, in order (colour-blind safe: Okabe-Ito).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (for references: the diagonal, the cutoff).
    pub dashed: bool,
}

impl Series {
    /// A solid line.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            dashed: false,
        }
    }
    /// A dashed reference line.
    pub fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            dashed: true,
        }
    }
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title above the chart.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Horizontal range.
    pub x_range: (f64, f64),
    /// Vertical range.
    pub y_range: (f64, f64),
    /// Names of the integer x positions 0, 1, ... (periods); `None` for numbers.
    pub x_names: Option<Vec<String>>,
    /// Show y tick labels as percentages.
    pub y_percent: bool,
}

/// A grouped bar chart: one group of bars per category.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title above the chart.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Category names.
    pub categories: Vec<String>,
    /// (legend text, one value per category).
    pub groups: Vec<(String, Vec<f64>)>,
}

/// A heatmap of shares in [0, 1] (the cohort matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Title above the chart.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Row names, drawn top to bottom.
    pub rows: Vec<String>,
    /// Values by row; rows may be shorter than the longest (empty cells).
    pub values: Vec<Vec<f64>>,
}

fn err<E: std::fmt::Debug>(title: &str) -> impl Fn(E) -> ReportError + '_ {
    move |_| ReportError::Chart(title.to_string())
}

fn with_svg(
    title: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(err(title))?;
        draw(&root)?;
        root.present().map_err(err(title))?;
    }
    Ok(buf)
}

fn number(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        crate::format::thousands(v.round() as i64)
    } else if v.fract().abs() < 1e-9 || v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Draws a line chart.
pub fn line_chart(c: &LineChart) -> Result<String, ReportError> {
    let t = c.title.as_str();
    with_svg(t, (WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(t, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(c.x_range.0..c.x_range.1, c.y_range.0..c.y_range.1)
            .map_err(err(t))?;
        let names = c.x_names.clone();
        let x_fmt = move |v: &f64| match &names {
            Some(n) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n.len() {
                    n[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => number(*v),
        };
        let pct = c.y_percent;
        let y_fmt = move |v: &f64| {
            if pct {
                format!("{:.0}%", 100.0 * v)
            } else {
                number(*v)
            }
        };
        let n_x = c.x_names.as_ref().map(|n| n.len().min(12)).unwrap_or(8);
        chart
            .configure_mesh()
            .x_desc(c.x_label.as_str())
            .y_desc(c.y_label.as_str())
            .x_labels(n_x.max(2))
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .light_line_style(RGBColor(235, 235, 235))
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err(t))?;
        for (i, s) in c.series.iter().enumerate() {
            let color = if s.dashed {
                RGBColor(120, 120, 120)
            } else {
                PALETTE[i % PALETTE.len()]
            };
            let style = color.stroke_width(2);
            let anno = if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))
                    .map_err(err(t))?
            } else {
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), style))
                    .map_err(err(t))?
            };
            anno.label(s.name.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(err(t))?;
        Ok(())
    })
}

/// Draws a grouped bar chart (values >= 0).
pub fn bar_chart(c: &BarChart) -> Result<String, ReportError> {
    let t = c.title.as_str();
    let n = c.categories.len().max(1);
    let max = c
        .groups
        .iter()
        .flat_map(|g| g.1.iter().copied())
        .fold(0.0f64, f64::max);
    let top = if max > 0.0 { max * 1.12 } else { 1.0 };
    with_svg(t, (WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(t, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(err(t))?;
        let names = c.categories.clone();
        let x_fmt = move |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        };
        let y_fmt = |v: &f64| number(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(c.x_label.as_str())
            .y_desc(c.y_label.as_str())
            .x_labels(n + 1)
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .light_line_style(RGBColor(235, 235, 235))
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err(t))?;
        let k = c.groups.len().max(1) as f64;
        let width = 0.8 / k;
        for (g, (name, values)) in c.groups.iter().enumerate() {
            let color = PALETTE[g % PALETTE.len()];
            let x0 = -0.4 + g as f64 * width;
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    let l = i as f64 + x0;
                    Rectangle::new([(l, 0.0), (l + width * 0.92, *v)], color.filled())
                }))
                .map_err(err(t))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err(t))?;
        Ok(())
    })
}

/// Colour of a share in [0, 1]: white to the palette's blue.
fn shade(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0).powf(0.6);
    let mix = |w: u8, b: u8| (w as f64 + (b as f64 - w as f64) * v).round() as u8;
    RGBColor(mix(255, 8), mix(255, 69), mix(255, 148))
}

/// Draws a heatmap with each cell's percentage written in it.
pub fn heatmap(c: &Heatmap) -> Result<String, ReportError> {
    let t = c.title.as_str();
    let rows = c.rows.len().max(1);
    let cols = c.values.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let height = (90 + 22 * rows as u32).max(HEIGHT);
    with_svg(t, (WIDTH + 180, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(t, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5f64..(cols as f64 - 0.5), -0.5f64..(rows as f64 - 0.5))
            .map_err(err(t))?;
        let names = c.rows.clone();
        let y_fmt = move |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[names.len() - 1 - i as usize].clone()
            } else {
                String::new()
            }
        };
        let x_fmt = |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                format!("{i:.0}")
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(c.x_label.as_str())
            .y_desc(c.y_label.as_str())
            .x_labels(cols.min(24) + 1)
            .y_labels(rows + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(err(t))?;
        let cells: Vec<(usize, usize, f64)> = c
            .values
            .iter()
            .enumerate()
            .flat_map(|(r, row)| row.iter().enumerate().map(move |(k, v)| (r, k, *v)))
            .collect();
        chart
            .draw_series(cells.iter().map(|&(r, k, v)| {
                let y = (rows - 1 - r) as f64;
                Rectangle::new(
                    [(k as f64 - 0.5, y - 0.5), (k as f64 + 0.5, y + 0.5)],
                    shade(v).filled(),
                )
            }))
            .map_err(err(t))?;
        if cols <= 26 {
            chart
                .draw_series(cells.iter().map(|&(r, k, v)| {
                    let y = (rows - 1 - r) as f64;
                    let color = if v > 0.45 { WHITE } else { BLACK };
                    Text::new(
                        format!("{:.0}", 100.0 * v),
                        (k as f64 - 0.3, y + 0.25),
                        ("sans-serif", 10).into_font().color(&color),
                    )
                }))
                .map_err(err(t))?;
        }
        Ok(())
    })
}
