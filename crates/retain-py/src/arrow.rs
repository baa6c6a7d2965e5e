//! Tables across the boundary through Arrow's C stream interface: imported from any object
//! with `__arrow_c_stream__` (pandas through pyarrow), exported as a pyarrow Table.

use std::ffi::CStr;

use polars::prelude::{CompatLevel, DataFrame, PolarsResult};
use polars_arrow::array::{Array, StructArray, Utf8Array, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader, export_iterator};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM: &CStr = c"arrow_array_stream";

fn arrow_err(what: &str) -> impl Fn(polars::prelude::PolarsError) -> PyErr + '_ {
    move |e| crate::DataError::new_err(format!("{what}: {e}"))
}

/// The table `data` offers through `__arrow_c_stream__` (a pandas DataFrame is first made a
/// pyarrow Table, without its index), its batches stacked in order.
pub(crate) fn import(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    let pandas = data
        .get_type()
        .module()
        .map(|m| m.to_string().starts_with("pandas"))
        .unwrap_or(false);
    let owned;
    let data = if data.hasattr("__arrow_c_stream__")? {
        data
    } else if pandas {
        // the index is a row label, never a column of lines
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("preserve_index", false)?;
        owned = py.import("pyarrow")?.getattr("Table")?.call_method(
            "from_pandas",
            (data,),
            Some(&kwargs),
        )?;
        &owned
    } else {
        return Err(PyTypeError::new_err(format!(
            "expected a table offering the Arrow C stream interface (a pyarrow Table or \
             RecordBatchReader, a polars DataFrame, a DuckDB result) or a pandas DataFrame, got \
             {}",
            data.get_type().name()?
        )));
    };
    let capsule = data.call_method1("__arrow_c_stream__", (py.None(),))?;
    let capsule = capsule.cast::<PyCapsule>().map_err(PyErr::from)?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: the capsule holds an ArrowArrayStream (its name says so); the stream is moved
    // out and the producer's copy marked released, as the C stream interface's consumers do.
    let stream = unsafe {
        std::ptr::replace(
            pointer.as_ptr().cast::<ArrowArrayStream>(),
            ArrowArrayStream::empty(),
        )
    };
    // SAFETY: a stream moved out of a valid capsule.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }
        .map_err(arrow_err("reading the Arrow stream"))?;
    let mut frame: Option<DataFrame> = None;
    // SAFETY: the reader was made from a valid stream.
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(arrow_err("reading the Arrow stream"))?;
        let Some(batch) = batch.as_any().downcast_ref::<StructArray>() else {
            return Err(crate::DataError::new_err(
                "reading the Arrow stream: its batches are not tables (struct arrays)",
            ));
        };
        let part =
            DataFrame::try_from(batch.clone()).map_err(arrow_err("reading the Arrow stream"))?;
        match &mut frame {
            None => frame = Some(part),
            Some(f) => {
                f.vstack_mut_owned(part)
                    .map_err(arrow_err("reading the Arrow stream"))?;
            }
        }
    }
    let mut frame = frame.unwrap_or_default();
    frame.rechunk_mut_par();
    Ok(frame)
}

/// `frame` as a pyarrow Table: numeric, date and boolean columns handed over without a copy,
/// text columns copied into Arrow's plain `string` (the type pyarrow, pandas and Spark read everywhere; `large_string`
/// for a column of more than 2 GiB of text) rather than polars' string views.
pub(crate) fn export<'py>(py: Python<'py>, mut frame: DataFrame) -> PyResult<Bound<'py, PyAny>> {
    let compat = CompatLevel::newest();
    frame.rechunk_mut_par();
    let mut fields: Vec<Field> = frame
        .columns()
        .iter()
        .map(|c| c.dtype().to_arrow_field(c.name().clone(), compat))
        .collect();
    let batches: Vec<Vec<Box<dyn Array>>> = frame
        .iter_chunks(compat, false)
        .map(|batch| batch.into_arrays())
        .collect();
    // each text column's type over every batch: 32-bit offsets unless its text does not fit
    for (i, field) in fields.iter_mut().enumerate() {
        if field.dtype == ArrowDataType::Utf8View {
            let bytes: usize = batches
                .iter()
                .map(|b| text_bytes(b[i].as_ref()))
                .max()
                .unwrap_or(0);
            field.dtype = if bytes < i32::MAX as usize {
                ArrowDataType::Utf8
            } else {
                ArrowDataType::LargeUtf8
            };
        }
    }
    let dtype = ArrowDataType::Struct(fields.clone());
    let arrays: Vec<PolarsResult<Box<dyn Array>>> = batches
        .into_iter()
        .map(|arrays| {
            let height = arrays.first().map_or(0, |a| a.len());
            let arrays = arrays
                .into_iter()
                .zip(&fields)
                .map(|(a, f)| plain_text(a, &f.dtype))
                .collect();
            let array: Box<dyn Array> =
                Box::new(StructArray::new(dtype.clone(), height, arrays, None));
            Ok(array)
        })
        .collect();
    let stream = export_iterator(
        Box::new(arrays.into_iter()),
        Field::new("".into(), dtype, false),
    );
    let capsule = PyCapsule::new_with_value(py, stream, STREAM)?;
    let holder = Py::new(
        py,
        StreamHolder {
            capsule: Some(capsule.unbind()),
        },
    )?;
    py.import("pyarrow")?.call_method1("table", (holder,))
}

/// Bytes of text in a string-view array (0 for any other array).
fn text_bytes(array: &dyn Array) -> usize {
    array
        .as_any()
        .downcast_ref::<Utf8ViewArray>()
        .map_or(0, |a| a.total_bytes_len())
}

/// A string-view array as `dtype` (`Utf8` or `LargeUtf8`); any other array as it is.
fn plain_text(array: Box<dyn Array>, dtype: &ArrowDataType) -> Box<dyn Array> {
    let Some(view) = array.as_any().downcast_ref::<Utf8ViewArray>() else {
        return array;
    };
    match dtype {
        ArrowDataType::Utf8 => Box::new(view.iter().collect::<Utf8Array<i32>>()),
        _ => Box::new(view.iter().collect::<Utf8Array<i64>>()),
    }
}

/// Offers one exported stream to pyarrow through `__arrow_c_stream__`.
#[pyclass(module = "retain._retain")]
struct StreamHolder {
    capsule: Option<Py<PyCapsule>>,
}

#[pymethods]
impl StreamHolder {
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__(
        &mut self,
        py: Python<'_>,
        requested_schema: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyCapsule>> {
        let _ = requested_schema;
        self.capsule
            .take()
            .map(|c| c.clone_ref(py))
            .ok_or_else(|| PyTypeError::new_err("the Arrow stream was already read"))
    }
}
