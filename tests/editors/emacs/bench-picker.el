;;; bench-picker.el --- Keypress to search picker with candidates, measured inside Emacs -*- lexical-binding: t; -*-

;;; Commentary:

;; Driven by scripts/bench_emacs.sh (which starts a private trifectad and warms the index):
;;   emacs -Q --batch -L editors/emacs -l tests/editors/emacs/bench-picker.el
;; Environment: TRIFECTA_SOCKET, BENCH_TREE (the segment), BENCH_RUNS (samples per query).
;; For each sample, `float-time' before `trifecta-search' is called with the query (what RET in
;; its prompt does) and when `completing-read' is entered with the candidate list computed (the
;; picker would draw now); the same query as a bare `ctx.search' round trip on the same
;; connection, interleaved, separates the picker's own cost.  Then the map: from
;; `trifecta-map' called with a path (the whole tree, json, email, http; 1,024 tokens) to the
;; *trifecta-map* buffer filled and shown, and the bare `ctx.map' round trip, interleaved.
;; Prints JSON lines.

;;; Code:

(require 'trifecta)
(require 'cl-lib)

(defconst bench-queries
  '("json decode error" "socket timeout" "http request header" "thread lock acquire"
    "parse command line arguments" "subprocess pipe" "datetime timezone" "regular expression compile"
    "mock patch object" "csv writer row"))

(defun bench-wait (pred)
  "Run timers and process output until PRED is non-nil (60 s at most)."
  (let ((deadline (+ (float-time) 60)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.0005))
    (or (funcall pred) (error "bench: no answer (%s)" trifecta-last-error))))

(defun bench-stats (xs)
  "Median, p10, p90, min, max of XS (milliseconds)."
  (let* ((v (vconcat (sort (copy-sequence xs) #'<))) (n (length v)))
    (list :n n :median (aref v (/ n 2)) :p10 (aref v (/ n 10)) :p90 (aref v (min (1- n) (/ (* 9 n) 10)))
          :min (aref v 0) :max (aref v (1- n)))))

(defun bench-run ()
  "Measure and print."
  (let* ((trifecta-socket (getenv "TRIFECTA_SOCKET"))
         (trifecta-segment (directory-file-name (file-truename (getenv "BENCH_TREE"))))
         (trifecta-auto-start nil)
         (runs (string-to-number (or (getenv "BENCH_RUNS") "20")))
         (picker nil) (rpc nil) (per-query nil) (ncands nil)
         (t1 nil))
    (trifecta-request-sync "ctx.build" (list :segment trifecta-segment) 600)
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &rest _)
                 (push (length (all-completions "" collection)) ncands)
                 (setq t1 (float-time))
                 (signal 'quit nil))))
      (dotimes (round (1+ runs))
        (dolist (q bench-queries)
          ;; Picker: the command as RET in its prompt runs it, to the candidates shown.
          (setq t1 nil)
          (let ((t0 (float-time)))
            (trifecta-search q)
            (bench-wait (lambda () t1))
            (when (> round 0)             ; round 0 warms up
              (let ((ms (* 1000 (- t1 t0))))
                (push ms picker)
                (push ms (alist-get q per-query nil nil #'equal)))))
          ;; The bare round trip of the same request.
          (let ((t0 (float-time)) (done nil))
            (trifecta-request "ctx.search" (list :segment trifecta-segment :query q
                                                 :limit trifecta-search-limit)
                              :on-result (lambda (_) (setq done (float-time))))
            (bench-wait (lambda () done))
            (when (> round 0) (push (* 1000 (- done t0)) rpc))))))
    (dolist (q bench-queries)
      (princ (format "{\"bench\":\"emacs_picker\",\"query\":%S,%s}\n" q
                     (bench-json (bench-stats (alist-get q per-query nil nil #'equal))))))
    (princ (format "{\"bench\":\"emacs_picker\",\"query\":\"all\",%s,\"candidates_median\":%d}\n"
                   (bench-json (bench-stats picker))
                   (nth (/ (length ncands) 2) (sort ncands #'<))))
    (princ (format "{\"bench\":\"emacs_ctx_search_rpc\",\"query\":\"all\",%s}\n"
                   (bench-json (bench-stats rpc))))
    (bench-map runs)))

(defconst bench-map-paths '("" "json" "email" "http"))

(defun bench-map (runs)
  "Keypress to map shown, and the bare `ctx.map' round trip: RUNS samples per path."
  (let ((shown nil) (rpc nil) (t1 nil) (lines 0))
    (advice-add 'trifecta--map-show :after
                (lambda (&rest _)
                  (setq t1 (float-time))
                  (setq lines (max lines (with-current-buffer "*trifecta-map*"
                                           (count-lines (point-min) (point-max)))))))
    (dotimes (round (1+ runs))
      (dolist (p bench-map-paths)
        (setq t1 nil)
        (let ((t0 (float-time)))
          (trifecta-map p 1024)
          (bench-wait (lambda () t1))
          (when (> round 0) (push (* 1000 (- t1 t0)) shown)))
        (let ((t0 (float-time)) (done nil))
          (trifecta-request "ctx.map" (list :segment trifecta-segment :path p :budget 1024)
                            :on-result (lambda (_) (setq done (float-time))))
          (bench-wait (lambda () done))
          (when (> round 0) (push (* 1000 (- done t0)) rpc)))))
    (princ (format "{\"bench\":\"emacs_map\",\"paths\":%d,\"budget\":1024,\"lines_max\":%d,%s}\n"
                   (length bench-map-paths) lines (bench-json (bench-stats shown))))
    (princ (format "{\"bench\":\"emacs_ctx_map_rpc\",%s}\n" (bench-json (bench-stats rpc))))))

(defun bench-json (plist)
  "PLIST of stats as JSON members (ms with 3 decimals)."
  (mapconcat (lambda (k) (let ((v (plist-get plist k)))
                           (format "\"%s_ms\":%.3f" (substring (symbol-name k) 1) v)))
             '(:median :p10 :p90 :min :max)
             ","))

(bench-run)
(kill-emacs 0)
;;; bench-picker.el ends here
