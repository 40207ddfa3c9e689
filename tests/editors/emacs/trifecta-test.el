;;; trifecta-test.el --- ERT tests of trifecta.el against a real trifectad -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/editors/emacs/run.sh (CTest `emacs_ert'):
;;   emacs --batch -l ert -l trifecta.el -l trifecta-test.el -f ert-run-tests-batch-and-exit
;; with TRIFECTAD_BIN, TRIFECTA_BIN (the built daemon and CLI), TRIFECTA_FIXTURES_DIR and
;; TRIFECTA_SOURCE_DIR in the environment.  Every test starts its own trifectad on a private socket
;; in a temporary directory, on a copy of tests/fixtures/pyproject_small, and stops it at the end.
;; The Pyright test is skipped, with the reason, when third_party/pyright or node is missing.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'trifecta)

(defvar tt-daemon-bin (getenv "TRIFECTAD_BIN"))
(defvar tt-cli-bin (getenv "TRIFECTA_BIN"))
(defvar tt-fixtures (getenv "TRIFECTA_FIXTURES_DIR"))
(defvar tt-source (getenv "TRIFECTA_SOURCE_DIR"))

(defvar tt-tmp nil "The current test's temporary directory.")
(defvar tt-root nil "The current test's segment (a copy of the fixture tree).")
(defvar tt-daemon nil "The current test's trifectad process.")

(defun tt-pyright ()
  "The Pyright launcher of the set-up, or nil."
  (let ((p (and tt-source (expand-file-name "third_party/pyright/node_modules/.bin/pyright-langserver"
                                            tt-source))))
    (and p (file-executable-p p) (executable-find "node") p)))

(defun tt-wait (pred &optional timeout what)
  "Run timers and process output until PRED is non-nil (TIMEOUT s, default 20); return it."
  (let ((deadline (+ (float-time) (or timeout 20))) v)
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (or v (ert-fail (format "timed out waiting for %s (last error: %s)" (or what pred)
                            trifecta-last-error)))))

(defun tt-start-daemon (&rest args)
  "Start trifectad in the foreground on the test socket with ARGS."
  (let ((sock (expand-file-name "run/d.sock" tt-tmp)))
    (when (file-exists-p sock) (delete-file sock))  ; left by a daemon killed with SIGKILL
    (setq tt-daemon
          (make-process :name "trifectad-test" :noquery t :connection-type 'pipe
                        :buffer (get-buffer-create " *trifectad-test*")
                        :stderr (get-buffer-create " *trifectad-test-stderr*")
                        :command (append (list tt-daemon-bin "--foreground" "--socket" sock
                                               "--enable-debug-methods" "--log-level" "warn")
                                         args)))
    (tt-wait (lambda () (file-exists-p sock)) 10 "the daemon's socket")))

(defun tt-stop-daemon (&optional signal)
  "Stop the test daemon with SIGNAL (default TERM) and wait for it."
  (when (and tt-daemon (process-live-p tt-daemon))
    (signal-process tt-daemon (or signal 'term))
    (tt-wait (lambda () (not (process-live-p tt-daemon))) 15 "the daemon to exit")))

(defmacro tt-with-daemon (args &rest body)
  "Run BODY with a fresh fixture tree and a trifectad started with ARGS."
  (declare (indent 1))
  `(let* ((tt-tmp (file-name-as-directory (make-temp-file "tfel" t)))
          (tt-root (directory-file-name
                    (file-truename (expand-file-name "proj" tt-tmp))))
          (process-environment
           (append (list (concat "XDG_STATE_HOME=" tt-tmp "state")
                         (concat "XDG_RUNTIME_DIR=" tt-tmp "xdg")
                         (concat "TRIFECTA_TELEMETRY_DIR=" tt-tmp "telemetry")
                         (concat "TRIFECTA_SOCKET=" tt-tmp "run/d.sock"))
                   (let ((p (tt-pyright))) (and p (list (concat "TRIFECTA_PYRIGHT=" p))))
                   process-environment))
          (trifecta-socket (expand-file-name "run/d.sock" tt-tmp))
          (trifecta-segment tt-root)
          (trifecta-auto-start nil)
          (trifecta-cli-program tt-cli-bin)
          (trifecta-daemon-program tt-daemon-bin)
          (trifecta-timeout 15)
          (trifecta-wait-ready-ms 0)
          (trifecta-last-error nil)
          (trifecta-last-message nil)
          (tt-daemon nil))
     (copy-directory (expand-file-name "pyproject_small" tt-fixtures) (concat tt-tmp "proj") nil t t)
     (make-directory (concat tt-tmp "run") t)
     (unwind-protect
         (progn
           ,(if (eq args 'none) nil `(tt-start-daemon ,@args))
           ,@body)
       (when trifecta-mode (trifecta-mode -1))
       (trifecta-disconnect)
       (tt-stop-daemon)
       (tt-kill-output-buffers)
       (dolist (b (buffer-list))
         (when (and (buffer-file-name b) (string-prefix-p tt-tmp (buffer-file-name b)))
           (with-current-buffer b (set-buffer-modified-p nil))
           (kill-buffer b)))
       (delete-directory tt-tmp t))))

(defun tt-visit (rel &optional line col)
  "Visit REL under the test root in the selected window, at LINE and COL (1-based)."
  (find-file (expand-file-name rel tt-root))
  (goto-char (point-min))
  (when line (forward-line (1- line)))
  (when col (forward-char (1- col))))

(defun tt-at (rel line)
  "Non-nil when the selected window shows REL (under the test root) at LINE."
  (with-current-buffer (window-buffer (selected-window))
    (and buffer-file-name
         (equal (file-truename buffer-file-name) (expand-file-name rel tt-root))
         (= (line-number-at-pos (window-point)) line))))

(defmacro tt-choosing (chooser &rest body)
  "Run BODY with `completing-read' answered by CHOOSER, called with (PROMPT CANDIDATES)."
  (declare (indent 1))
  `(cl-letf (((symbol-function 'completing-read)
              (let ((tt--chooser ,chooser))
                (lambda (tt--prompt tt--collection &rest _)
                  (funcall tt--chooser tt--prompt (all-completions "" tt--collection))))))
     ,@body))

(defun tt-buffer-text (name)
  "The text of buffer NAME, or nil."
  (let ((b (get-buffer name))) (and b (with-current-buffer b (buffer-string)))))

;;;; Search, symbols, outline, context

(ert-deftest trifecta-test-search-jumps-to-the-hit ()
  (tt-with-daemon ("--no-lsp")
    (tt-visit "main.py")
    (let (prompt cands)
      (tt-choosing (lambda (p c) (setq prompt p cands c)
                     (cl-find-if (lambda (x) (string-search "pkg/models.py:17" x)) c))
        (trifecta-search "make user")
        (tt-wait (lambda () (tt-at "pkg/models.py" 17)) 20 "the jump to models.py:17"))
      (should (string-match-p "\\`trifecta make user \\[[0-9]+ of [0-9]+\\]: \\'" prompt))
      ;; Every candidate shows the score, path:line, kind and title.
      (should (cl-every (lambda (c) (string-match-p "\\`  *[0-9]+\\.[0-9][0-9]  [^ ]+:[0-9]+  \\(code\\|doc\\|other\\)  " c))
                        cands))
      (should (cl-some (lambda (c) (string-match-p "pkg/models.py:17  code  make_user" c)) cands))
      ;; A misspelt word is searched as the indexed word, and the prompt says so.
      (setq prompt nil)
      (tt-choosing (lambda (p c) (setq prompt p cands c) (car c))
        (trifecta-search "greetign")
        (tt-wait (lambda () prompt) 20 "the picker for the misspelt query"))
      (should (string-match-p "\\`trifecta greetign (searched as: greetign → greeting) \\[[0-9]+ of [0-9]+\\]: \\'" prompt))
      (should (cl-some (lambda (c) (string-match-p "pkg/models.py:" c)) cands)))
    ;; Filters: a path glob and a kind, inline or as arguments.
    (let (cands)
      (tt-visit "main.py")
      (tt-choosing (lambda (_p c) (setq cands c) (car c))
        (trifecta-search "greeting path:pkg/ kind:code")
        (tt-wait (lambda () cands) 20 "the filtered candidates"))
      (should cands)
      (should (cl-every (lambda (c) (string-match-p "  pkg/" c)) cands))
      (should-not (cl-some (lambda (c) (string-search "main.py" c)) cands)))
    ;; C-u: the path glob and the kind are prompted for.
    (let ((answers (list "pkg/" "make user")) cands prompts)
      (tt-visit "main.py")
      (cl-letf (((symbol-function 'read-string)
                 (lambda (prompt &rest _) (push prompt prompts) (pop answers))))
        (tt-choosing (lambda (p c) (push p prompts)
                       (if (string-prefix-p "Kind" p) "code" (setq cands c) (car c)))
          (let ((current-prefix-arg '(4))) (call-interactively #'trifecta-search))
          (tt-wait (lambda () cands) 20 "the prompted-filter candidates")))
      (should (member "trifecta search [path:pkg/ kind:code]: " prompts))
      (should (cl-every (lambda (c) (string-match-p "  pkg/[^ ]*:[0-9]+  code  " c)) cands)))
    (let ((trifecta-last-error nil) (asked nil))
      (tt-choosing (lambda (_p c) (setq asked t) (car c))
        (trifecta-search "greeting" nil "doc")
        (tt-wait (lambda () (and trifecta-last-message (string-search "no hits" trifecta-last-message)))
                 20 "the no-hits message"))
      (should-not asked))))

(ert-deftest trifecta-test-search-consult-preview ()
  ;; consult is not installed here: a stand-in with consult's calling convention checks the glue
  ;; (candidates in, a preview marker at the hit's line per candidate, the choice out).
  (tt-with-daemon ("--no-lsp")
    (let ((log nil))
      (push 'consult features)  ; not let-bound: timers would not see the binding
      (unwind-protect
          (cl-letf (((symbol-function 'consult--jump-state)
                     (lambda () (lambda (action marker) (push (list action marker) log))))
                    ((symbol-function 'consult--read)
                     (lambda (table &rest opts)
                       (let* ((cands (all-completions "" table))
                              (pick (cl-find-if (lambda (c) (string-search "pkg/models.py:17" c)) cands))
                              (state (plist-get opts :state)))
                         (funcall state 'preview pick)
                         (funcall state 'exit nil)
                         pick))))
            (tt-visit "main.py")
            (trifecta-search "make user")
            (tt-wait (lambda () (tt-at "pkg/models.py" 17)) 20 "the jump after the consult picker")
            (let ((preview (cadr (assq 'preview log))))
              (should (markerp preview))
              (with-current-buffer (marker-buffer preview)
                (should (equal (file-truename buffer-file-name) (expand-file-name "pkg/models.py" tt-root)))
                (should (= (line-number-at-pos preview) 17)))))
        (setq features (delq 'consult features))))))

(ert-deftest trifecta-test-find-symbol ()
  (tt-with-daemon ("--no-lsp")
    (tt-visit "main.py")
    (trifecta-find-symbol "sym://python/pkg.models/User.greeting")
    (tt-wait (lambda () (tt-at "pkg/models.py" 12)) 20 "sym:// jump")
    (tt-visit "main.py")
    (trifecta-find-symbol "pkg.service/welcome")
    (tt-wait (lambda () (tt-at "pkg/service.py" 7)) 20 "module/qualname jump")
    ;; A bare name is searched and offered as sym:// URIs.
    (tt-visit "main.py")
    (let (cands)
      (tt-choosing (lambda (_p c) (setq cands c) (car c))
        (trifecta-find-symbol "make_user")
        (tt-wait (lambda () (tt-at "pkg/models.py" 17)) 20 "bare-name jump"))
      (should (equal (car cands) "sym://python/pkg.models/make_user")))
    ;; An unknown module: a clear message, no jump.
    (tt-visit "main.py")
    (setq trifecta-last-error nil)
    (trifecta-find-symbol "pkg.nope/Thing")
    (tt-wait (lambda () trifecta-last-error) 20 "the error")
    (should (string-match-p "not found" trifecta-last-error))
    (should (tt-at "main.py" 1))))

(ert-deftest trifecta-test-outline ()
  (tt-with-daemon ("--no-lsp")
    (tt-visit "pkg/models.py")
    (trifecta-outline)
    (tt-wait (lambda () (let ((s (tt-buffer-text "*trifecta-outline*")))
                          (and s (string-search "greeting" s))))
             20 "the outline")
    (let ((text (tt-buffer-text "*trifecta-outline*")))
      (should (string-match-p "^ +6 class User$" text))
      (should (string-match-p "^ +12   def greeting(self) -> str$" text))
      (should (string-match-p "^ +17 def make_user(name: str, age: int = 0) -> User$" text)))
    (should (get-buffer-window "*trifecta-outline*"))
    (with-selected-window (get-buffer-window "*trifecta-outline*")
      (goto-char (point-min))
      (search-forward "greeting")
      (trifecta-outline-visit))
    (should (tt-at "pkg/models.py" 12))))

(ert-deftest trifecta-test-context ()
  (tt-with-daemon ("--no-lsp")
    (tt-visit "pkg/models.py")
    (should (equal (trifecta--default-context-target) "sym://python/pkg.models"))
    ;; Without `trifecta-segment', the root is found from markers: here `_ctx', the directory
    ;; the daemon keeps in a segment it opened.  A work tree comes first, as for the CLI: one
    ;; nested below it is a root of its own, and a segment once opened below a work tree's
    ;; root does not take the root's place.
    (let ((trifecta-segment nil))
      (make-directory (expand-file-name "_ctx" tt-root) t)
      (should (equal (trifecta-segment-root) tt-root))
      (should (equal (trifecta--default-context-target) "sym://python/pkg.models"))
      (let ((nested (expand-file-name "vendor/lib/" tt-root)))
        (make-directory (expand-file-name ".git" nested) t)
        (with-temp-buffer
          (setq default-directory nested)
          (should (equal (trifecta-segment-root) (directory-file-name (file-truename nested)))))
        (delete-directory (expand-file-name "vendor" tt-root) t))
      (let ((inner (expand-file-name "tools/" tt-root)))
        (make-directory (expand-file-name ".git" tt-root) t)
        (make-directory (expand-file-name "_ctx" inner) t)
        (with-temp-buffer
          (setq default-directory inner)
          (should (equal (trifecta-segment-root) tt-root)))
        (delete-directory (expand-file-name ".git" tt-root) t)
        (delete-directory inner t)))
    (trifecta-context "sym://python/pkg.models/User" "skeleton" 500)
    (tt-wait (lambda () (tt-buffer-text "*trifecta-context*")) 20 "the context buffer")
    (let ((text (tt-buffer-text "*trifecta-context*")))
      (should (string-match-p "mode skeleton, [0-9]+ of 500 tokens, complete" text))
      (should (string-search "class User" text))
      (should (string-search "def greeting(self) -> str" text)))
    ;; A file that is not Python: the default target is the file itself.
    (with-temp-file (expand-file-name "NOTES.md" tt-root) (insert "# Notes\n\nDeploy with care.\n"))
    (tt-visit "NOTES.md")
    (should (equal (trifecta--default-context-target) "NOTES.md"))
    (with-current-buffer (get-buffer-create "*trifecta-context*") (erase-buffer))
    (trifecta-context "NOTES.md" "raw" 500)
    (tt-wait (lambda () (let ((s (tt-buffer-text "*trifecta-context*")))
                          (and s (string-search "Deploy with care." s))))
             20 "the file's context")
    (should (string-search "NOTES.md — mode raw" (tt-buffer-text "*trifecta-context*")))))

;; Outside any marker and project, the buffer's directory is the segment, but never the home
;; directory or /: there the root is refused with a message (the daemon would index it all).
(ert-deftest trifecta-test-segment-never-home ()
  (let* ((home (file-truename (make-temp-file "tt-home" t)))
         (proj (expand-file-name "proj/" home))
         (process-environment (cons (concat "HOME=" home "/") process-environment))
         (trifecta-segment nil))
    (unwind-protect
        (progn
          (make-directory proj t)
          (dolist (dir (list (file-name-as-directory home) "/"))
            (with-temp-buffer
              (setq default-directory dir)
              (let ((err (should-error (trifecta-segment-root) :type 'user-error)))
                (should (string-match-p "no project here" (cadr err)))
                (should (string-match-p (if (equal dir "/") "the filesystem root" "your home directory")
                                        (cadr err))))))
          (with-temp-buffer
            (setq default-directory proj)
            (should (equal (trifecta-segment-root) (directory-file-name proj))))
          ;; Chosen, or opened before (its `_ctx'): taken as it is.
          (with-temp-buffer
            (setq default-directory (file-name-as-directory home))
            (let ((trifecta-segment home))
              (should (equal (trifecta-segment-root) home))))
          (make-directory (expand-file-name "_ctx" home))
          (with-temp-buffer
            (setq default-directory (file-name-as-directory home))
            (should (equal (trifecta-segment-root) home))))
      (delete-directory home t))))

;; The map: most central file first, RET opens the definition (a decorator line
;; its class), a folder and a small budget narrow it, bad paths fail clearly.
(ert-deftest trifecta-test-map ()
  (tt-with-daemon ("--no-lsp")
    (tt-visit "main.py")
    (trifecta-map)
    (tt-wait (lambda () (let ((s (tt-buffer-text "*trifecta-map*")))
                          (and s (string-search "# pkg/service.py" s))))
             20 "the map")
    (let ((text (tt-buffer-text "*trifecta-map*")))
      (should (< (string-search "# pkg/models.py" text) (string-search "# pkg/service.py" text)))
      (should (string-match-p "^class User:  # L5-14$" text))
      (should (string-match-p "^def make_user(name: str, age: int = 0) -> User:  # L17-19$" text))
      (with-current-buffer "*trifecta-map*"
        (should (eq major-mode 'trifecta-map-mode))
        (should buffer-read-only)
        (should (string-match-p "trifecta map of proj — \\([0-9]+\\) of \\1 Python files, [0-9]+ of 1024 tokens"
                                header-line-format))))
    (should (string-prefix-p "trifecta: map of proj" trifecta-last-message))
    (select-window (get-buffer-window "*trifecta-map*"))
    (goto-char (point-min))
    (search-forward "@dataclass")
    (trifecta-map-visit)
    (should (tt-at "pkg/models.py" 6))
    (should (get-buffer-window "*trifecta-map*"))  ; the map stays open beside the file
    (select-window (get-buffer-window "*trifecta-map*"))
    (goto-char (point-min))
    (search-forward "def welcome(")
    (trifecta-map-visit)
    (should (tt-at "pkg/service.py" 7))
    ;; A folder and a small budget: not every file, the first in part (no file takes more than
    ;; a quarter while others wait); the last line says more would fit.
    (kill-buffer "*trifecta-map*")
    (trifecta-map "pkg" 64)
    (tt-wait (lambda () (tt-buffer-text "*trifecta-map*")) 20 "the narrowed map")
    (let ((text (tt-buffer-text "*trifecta-map*")))
      (should (string-search "# pkg/models.py" text))
      (should-not (string-search "main.py" text))
      (should (string-match-p "^More with a budget above 64 or a narrower path" text)))
    (with-current-buffer "*trifecta-map*"
      (should (string-match-p "pkg — [12] of [345] Python files, [12] in part, [0-9]+ of 64 tokens"
                              header-line-format))
      ;; g asks again for the same map
      (let ((inhibit-read-only t)) (erase-buffer))
      (trifecta-map-refresh))
    (tt-wait (lambda () (let ((s (tt-buffer-text "*trifecta-map*")))
                          (and s (string-search "# pkg/models.py" s))))
             20 "the refreshed map")
    ;; An absolute path inside the project works; outside it, or missing, fails with the reason.
    (trifecta-map (expand-file-name "pkg/service.py" tt-root))
    (tt-wait (lambda () (string-search "pkg/service.py — 1 of 1" (or trifecta-last-message "")))
             20 "the map of one file")
    (trifecta-map "/")
    (tt-wait (lambda () trifecta-last-error) 20 "the escape error")
    (should (string-match-p "trifecta: map failed: path is outside the segment" trifecta-last-error))
    (setq trifecta-last-error nil)
    (trifecta-map "no/such/dir")
    (tt-wait (lambda () trifecta-last-error) 20 "the missing-path error")
    (should (string-search "no such file or folder" trifecta-last-error))
    (setq trifecta-last-error nil)
    (trifecta-map nil 10)
    (tt-wait (lambda () trifecta-last-error) 20 "the budget error")
    (should (string-search "budget" trifecta-last-error))))

;;;; Definition, hover, references, diagnostics

(defun tt-kill-output-buffers ()
  "Kill the buffers trifecta commands fill, so a test sees only its own answers."
  (dolist (name '("*trifecta-hover*" "*xref*" "*trifecta-outline*" "*trifecta-diagnostics*"
                  "*trifecta-context*" "*trifecta-map*"))
    (when (get-buffer name) (kill-buffer name))))

(defun tt-navigation-checks (backend-re)
  "Definition, hover, references and diagnostics on the fixture, answered by BACKEND-RE."
  (tt-kill-output-buffers)
  (tt-visit "pkg/service.py" 8 12)
  (trifecta-definition)
  (tt-wait (lambda () (tt-at "pkg/models.py" 17)) 70 "the definition")
  (should (string-search (concat "definition — " backend-re) trifecta-last-message))
  (tt-visit "pkg/service.py" 8 12)
  (trifecta-hover)
  (tt-wait (lambda () (tt-buffer-text "*trifecta-hover*")) 20 "the hover")
  (should (string-search "make_user" (tt-buffer-text "*trifecta-hover*")))
  (should (string-search backend-re (with-current-buffer "*trifecta-hover*" header-line-format)))
  (tt-visit "pkg/models.py" 17 5)
  (trifecta-references)
  (tt-wait (lambda () (let ((s (tt-buffer-text "*xref*"))) (and s (string-search "service.py" s))))
           20 "the references")
  (with-current-buffer "*xref*"
    (should (string-search backend-re header-line-format))
    (should (string-search "user = make_user(name)" (buffer-string)))
    (should (string-search "def make_user(name: str, age: int = 0) -> User:" (buffer-string)))))

(ert-deftest trifecta-test-navigation-ast-fallback ()
  (tt-with-daemon ("--no-lsp")
    (tt-navigation-checks "AST fallback (lsp UNAVAILABLE")
    (with-temp-file (expand-file-name "pkg/broken.py" tt-root) (insert "def oops(:\n    pass\n"))
    (tt-visit "pkg/broken.py")
    (trifecta-diagnostics)
    (tt-wait (lambda () (tt-buffer-text "*trifecta-diagnostics*")) 20 "the diagnostics")
    (let ((text (tt-buffer-text "*trifecta-diagnostics*")))
      (should (string-search "AST fallback" text))
      (should (string-match-p "^pkg/broken.py:1:[0-9]+: error: " text)))))

(ert-deftest trifecta-test-navigation-pyright-and-status ()
  (unless (tt-pyright) (ert-skip "no Pyright: third_party/pyright or node is missing"))
  (tt-with-daemon ()
    ;; The lighter follows the segment from opening through WARMING to READY.
    (let ((trifecta-status-min-interval 0.1) (seen nil))
      (tt-visit "main.py")
      (add-hook 'trifecta-status-functions (lambda (_root s) (push s seen)))
      (unwind-protect
          (progn
            (trifecta-mode 1)
            (tt-wait (lambda () (equal (trifecta-status-string) "trifecta: READY")) 90 "READY")
            ;; The lighter (`format-mode-line' renders nothing in batch: no display).
            (should (equal (cadr (assq 'trifecta-mode minor-mode-alist)) '(:eval (trifecta--mode-line))))
            (should (equal (with-current-buffer (window-buffer) (trifecta--mode-line))
                           " trifecta: READY")))
        (setq trifecta-status-functions nil))
      (setq seen (nreverse seen))
      (should (equal (car (last seen)) "trifecta: READY"))
      (should (> (length seen) 1))
      (should (cl-some (lambda (s) (member s '("trifecta: WARMING" "trifecta: COLD" "trifecta: opening")))
                       seen))
      ;; The daemon goes away: the lighter says so.
      (tt-stop-daemon)
      (tt-wait (lambda () (equal (trifecta-status-string) "trifecta: off")) 5 "off"))
    (trifecta-mode -1)
    (tt-start-daemon)
    (let ((trifecta-wait-ready-ms 60000))
      (tt-navigation-checks "lsp (READY)"))
    (kill-buffer (get-file-buffer (expand-file-name "pkg/service.py" tt-root)))
    (with-temp-file (expand-file-name "pkg/service.py" tt-root)
      (insert "def welcome(name: str) -> str:\n    return 1\n"))
    (tt-visit "pkg/service.py")
    (tt-wait (lambda ()
               (when (get-buffer "*trifecta-diagnostics*") (kill-buffer "*trifecta-diagnostics*"))
               (trifecta-diagnostics)
               (let ((deadline (+ (float-time) 5)) text)
                 (while (and (not (setq text (tt-buffer-text "*trifecta-diagnostics*")))
                             (< (float-time) deadline))
                   (accept-process-output nil 0.05))
                 (and text (string-search "error" (replace-regexp-in-string "0 diagnostics" "" text))
                      text)))
             60 "a Pyright type error")
    (should (string-search "lsp (READY)" (tt-buffer-text "*trifecta-diagnostics*")))))

;;;; Status, failures, asynchrony

(ert-deftest trifecta-test-status-strings ()
  ;; What the lighter shows for each state (no daemon needed: the poll's results are set directly).
  (let ((trifecta--status (make-hash-table :test 'equal)) (root "/nonexistent/seg"))
    (should (equal (trifecta-status-string root) "trifecta"))
    (trifecta--set-status root '(:daemon nil))
    (should (equal (trifecta-status-string root) "trifecta: off"))
    (trifecta--set-status root '(:daemon t :index "building"))
    (should (equal (trifecta-status-string root) "trifecta: index building"))
    (trifecta--set-status root '(:done 42 :total 100))
    (should (equal (trifecta-status-string root) "trifecta: index building 42%"))
    ;; In the mode line `%' must be doubled, or "42% " would be read as a %-construct.
    (with-temp-buffer
      (setq buffer-file-name "/nonexistent/seg/a.py")
      (let ((trifecta-segment root))
        (should (equal (trifecta--mode-line) " trifecta: index building 42%%")))
      (setq buffer-file-name nil))
    (trifecta--set-status root '(:index "ready" :lsp "WARMING"))
    (should (equal (trifecta-status-string root) "trifecta: WARMING"))
    (trifecta--set-status root '(:lsp "READY"))
    (should (equal (trifecta-status-string root) "trifecta: READY"))
    (trifecta--set-status root '(:lsp "UNAVAILABLE"))
    (should (equal (trifecta-status-string root) "trifecta: AST"))
    (trifecta--set-status root '(:index "failed"))
    (should (equal (trifecta-status-string root) "trifecta: index FAILED"))))

(defun tt-make-big-tree (dir n)
  "Write N small Python modules under DIR."
  (dotimes (i n)
    (with-temp-file (expand-file-name (format "m%04d.py" i) dir)
      (dotimes (j 12)
        (insert (format "def f%d_%d(a, b):\n    \"\"\"Add things %d.\"\"\"\n    return a + b * %d\n\n\n"
                        i j j i))))))

(ert-deftest trifecta-test-status-build-progress ()
  (tt-with-daemon ("--no-lsp" "--workers" "2")
    (let* ((big (expand-file-name "big" tt-tmp))
           (trifecta-segment big)
           (trifecta-status-min-interval 0.05)
           (seen nil))
      (make-directory big)
      (tt-make-big-tree big 2500)
      (find-file (expand-file-name "m0000.py" big))
      (add-hook 'trifecta-status-functions (lambda (_root s) (push s seen)))
      (unwind-protect
          (progn
            (trifecta-mode 1)
            (tt-wait (lambda () (equal (trifecta-status-string) "trifecta: AST")) 120 "the built index"))
        (setq trifecta-status-functions nil))
      (setq seen (nreverse seen))
      (message "status transitions: %S" seen)
      (should (cl-some (lambda (s) (string-match-p "\\`trifecta: index building [0-9]+%\\'" s)) seen))
      (should (equal (car (last seen)) "trifecta: AST")))))

(ert-deftest trifecta-test-dead-daemon-then-reconnect ()
  (tt-with-daemon ()
    (should (plist-get (trifecta-request-sync "ping" nil) :pong))
    ;; A request in flight when the daemon dies fails with a clear message.
    (let (err)
      (trifecta-request "debug.sleep" '(:ms 10000) :on-error (lambda (e) (setq err e)))
      (accept-process-output nil 0.2)
      (tt-stop-daemon 'kill)
      (tt-wait (lambda () err) 10 "the failure")
      (should (equal (trifecta--error-name err) "DISCONNECTED"))
      (should (string-match-p "trifectad went away.*the next command reconnects" (plist-get err :message))))
    ;; No daemon, no auto-start: a clear message that says what to do.
    (let (err)
      (trifecta-request "ping" nil :on-error (lambda (e) (setq err e)))
      (tt-wait (lambda () err) 5 "the failure")
      (should (string-match-p "\\`trifectad is not running (cannot connect to .*d\\.sock: [^,]+); start it with `trifecta daemon start'"
                              (plist-get err :message))))
    (should-error (trifecta-request-sync "ping" nil) :type 'user-error)
    ;; The daemon is back: the next call reconnects.
    (tt-start-daemon)
    (should (plist-get (trifecta-request-sync "ping" nil) :pong))
    (should (plist-get trifecta--hello :capabilities))))

(ert-deftest trifecta-test-timeout-then-reconnect ()
  (tt-with-daemon ()
    ;; Connected first: the clock below times the request, not the connection and `hello'.
    (should (plist-get (trifecta-request-sync "ping" nil) :pong))
    (let (err (t0 (float-time)))
      (trifecta-request "debug.sleep" '(:ms 3000) :timeout 0.3 :on-error (lambda (e) (setq err e)))
      (tt-wait (lambda () err) 5 "the timeout")
      (should (< (- (float-time) t0) 2.0))
      (should (equal (trifecta--error-name err) "TIMEOUT"))
      (should (string-match-p "no reply to debug.sleep within 0.3 s" (plist-get err :message))))
    (should (plist-get (trifecta-request-sync "ping" nil) :pong))))

(ert-deftest trifecta-test-auto-start ()
  (tt-with-daemon none
    (let ((trifecta-auto-start t))
      (should-not (file-exists-p trifecta-socket))
      (let ((r (trifecta-request-sync "ping" nil 30)))
        (should (plist-get r :pong))
        (should (file-exists-p trifecta-socket))
        ;; Stop the daemon the CLI started (it detached from us).
        (should (plist-get (trifecta-request-sync "shutdown" nil) :stopping))
        (tt-wait (lambda () (not (file-exists-p trifecta-socket))) 20 "the daemon to stop")))
    ;; A CLI that cannot run gives a clear message.
    (let ((trifecta-auto-start t) (trifecta-cli-program "/nonexistent/trifecta") err)
      (trifecta-disconnect)
      (trifecta-request "ping" nil :on-error (lambda (e) (setq err e)))
      (tt-wait (lambda () err) 5 "the failure")
      (should (string-match-p "/nonexistent/trifecta daemon start' failed: .*No such file.*trifecta-cli-program"
                              (plist-get err :message))))))

(ert-deftest trifecta-test-non-blocking ()
  (tt-with-daemon ()
    ;; Connected first: "returned at once" below is about the request, not the connection.
    (should (plist-get (trifecta-request-sync "ping" nil) :pong))
    (let* ((reply-at nil) (timer-at nil) (key-at nil)
           (map (make-sparse-keymap))
           (t0 (float-time)))
      (define-key map (kbd "C-c z") (lambda () (interactive) (setq key-at (float-time))))
      (trifecta-request "debug.sleep" '(:ms 1500) :on-result (lambda (_) (setq reply-at (float-time))))
      ;; The call returned at once, with the request pending.
      (should (< (- (float-time) t0) 0.5))
      (should (cl-some (lambda (r) (equal (trifecta--req-method r) "debug.sleep"))
                       (hash-table-values trifecta--pending)))
      (run-at-time 0.1 nil (lambda () (setq timer-at (float-time))))
      (tt-wait (lambda () timer-at) 5 "the timer")
      ;; A keypress goes through the command loop while the request is pending.
      (let ((overriding-local-map map)) (execute-kbd-macro (kbd "C-c z")))
      (should key-at)
      (should-not reply-at)
      (tt-wait (lambda () reply-at) 10 "the reply")
      (should (< timer-at reply-at))
      (should (< key-at reply-at))
      (should (>= (- reply-at t0) 1.4)))))

;;;; The wire, against a scripted server (framing and version skew the real daemon never shows)

(defmacro tt-with-fake-server (handler &rest body)
  "Run BODY with a local socket server answering each request line with HANDLER.
HANDLER gets (CONNECTION REQUEST-PLIST) and sends whatever it likes."
  (declare (indent 1))
  `(let* ((tt-tmp (file-name-as-directory (make-temp-file "tfel" t)))
          (trifecta-socket (concat tt-tmp "f.sock"))
          (trifecta-auto-start nil)
          (trifecta-last-error nil)
          (handler ,handler)
          (server (make-network-process
                   :name "tt-fake" :server t :family 'local :service trifecta-socket :noquery t
                   :coding 'binary      ; bytes on the wire: a write may split a UTF-8 character
                   :filter (lambda (conn chunk)
                             (let ((buf (concat (or (process-get conn 'buf) "") chunk)))
                               (while (string-match "\n" buf)
                                 (let ((line (substring buf 0 (match-beginning 0))))
                                   (setq buf (substring buf (match-end 0)))
                                   (funcall handler conn (trifecta--json-decode
                                                          (decode-coding-string line 'utf-8)))))
                               (process-put conn 'buf buf))))))
     (unwind-protect (progn ,@body)
       (trifecta-disconnect)
       (delete-process server)
       (delete-directory tt-tmp t))))

(defun tt-reply (conn req result)
  "Send RESULT as the reply to REQ on CONN."
  (process-send-string conn (encode-coding-string
                             (concat (trifecta--json-encode (list :jsonrpc "2.0" :id (plist-get req :id)
                                                                  :result result))
                                     "\n")
                             'utf-8)))

(ert-deftest trifecta-test-framing ()
  ;; Replies split over writes (inside a UTF-8 character), several in one write, blank and unreadable lines, out of order,
  ;; a notification between them: every request gets its own answer.
  (tt-with-fake-server
      (lambda (conn req)
        (pcase (plist-get req :method)
          ("hello" (tt-reply conn req '(:protocol "1.1")))
          ("first" (process-put conn 'first req))
          ("second"
           (let* ((r1 (encode-coding-string
                       (trifecta--json-encode (list :jsonrpc "2.0" :id (plist-get (process-get conn 'first) :id)
                                                    :result '(:n 1 :text "é🐍")))
                       'utf-8))
                  (r2 (trifecta--json-encode (list :jsonrpc "2.0" :id (plist-get req :id)
                                                   :result '(:n 2))))
                  (cut (- (length r1) 4))) ; inside the 4 bytes of 🐍
             ;; The second answer first, then a notification, junk, and the first answer in halves.
             (process-send-string conn (concat r2 "\n\n"))
             (process-send-string conn "{\"jsonrpc\":\"2.0\",\"method\":\"ctx.progress\",\"params\":{\"segment_id\":\"s\",\"done\":1,\"total\":2}}\nnot json\n")
             (process-send-string conn (substring r1 0 cut))
             (run-at-time 0.1 nil (lambda () (process-send-string conn (concat (substring r1 cut) "\n"))))))))
    (let (a b progress)
      (let ((trifecta-progress-functions (list (lambda (&rest args) (setq progress args)))))
        (trifecta-request "first" nil :on-result (lambda (r) (setq a r)))
        (trifecta-request "second" nil :on-result (lambda (r) (setq b r)))
        (tt-wait (lambda () (and a b)) 5 "both replies"))
      (should (equal a '(:n 1 :text "é🐍")))
      (should (equal b '(:n 2)))
      (should (equal progress '("s" 1 2)))
      (should (= (hash-table-count trifecta--pending) 0)))))

(ert-deftest trifecta-test-version-mismatch ()
  ;; A daemon of another major version: the user is told to restart it, nothing is served.
  (tt-with-fake-server
      (lambda (conn req)
        (process-send-string
         conn (concat (trifecta--json-encode
                       (list :jsonrpc "2.0" :id (plist-get req :id)
                             :error (list :code -32004
                                          :message "client speaks protocol 1.1 but trifectad 9.0.0 speaks 9.0; restart the daemon with `trifecta daemon restart`"
                                          :data '(:name "VERSION_MISMATCH" :daemon_protocol "9.0"))))
                      "\n")))
    (let (err)
      (trifecta-request "ping" nil :on-error (lambda (e) (setq err e)))
      (tt-wait (lambda () err) 5 "the failure")
      (should (string-match-p "hello failed: .*trifecta daemon restart" trifecta-last-error))
      (should-not (trifecta-connected-p)))))

;;;; Packaging

(ert-deftest trifecta-test-package-install-file ()
  (let* ((tmp (make-temp-file "tfel-pkg" t))
         (el (locate-library "trifecta.el" t))
         (out (with-temp-buffer
                (list (call-process
                       (expand-file-name invocation-name invocation-directory) nil t nil
                       "-Q" "--batch"
                       "--eval" (format "(setq package-user-dir %S)" tmp)
                       "--eval" "(progn (require 'package) (package-initialize))"
                       "--eval" (format "(package-install-file %S)" el)
                       "--eval" "(progn (package-initialize) (require 'trifecta) (princ (format \"OK %s %s\" (package-installed-p 'trifecta) (commandp 'trifecta-search))))")
                      (buffer-string)))))
    (unwind-protect
        (progn
          (should (equal (car out) 0))
          (should (string-search "OK t t" (cadr out)))
          (let ((dir (car (file-expand-wildcards (expand-file-name "trifecta-*" tmp)))))
            (should dir)
            (should (file-exists-p (expand-file-name "trifecta-autoloads.el" dir)))
            (should (file-exists-p (expand-file-name "trifecta.elc" dir)))))
      (delete-directory tmp t))))

(provide 'trifecta-test)
;;; trifecta-test.el ends here
