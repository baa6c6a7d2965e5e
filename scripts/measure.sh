# Sourced by the bench scripts: `measure LABEL COMMAND...` runs COMMAND $n times under
# /usr/bin/time (scratch files in $work) and prints the median wall time and peak RSS, with
# every run's wall time. Needs `n` and `work` set; a failing run prints its stderr and exits.
measure() { # label, command...
  local label="$1"; shift
  local walls=() rss=()
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
    read -r w m <"$work/time"; walls+=("$w"); rss+=("$m")
  done
  local wm mm
  wm=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mm=$(printf '%s\n' "${rss[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-58s %8.2f s %8.0f MiB   (runs: %s)\n' "$label" "$wm" "$((mm / 1024))" "${walls[*]}"
}

# `measure_runs NAME COMMAND...` runs COMMAND $n times under /usr/bin/time and prints one line
# per run, "NAME seconds peak_MiB", for scripts that compare medians afterwards (the command's
# output goes to $work/NAME.log).
measure_runs() { # name, command...
  local name="$1"; shift
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/$name.log" 2>&1
    read -r secs kb <"$work/time"
    echo "$name $secs $((kb / 1024))"
  done
}
