;;; trifecta.el --- Code context from trifectad: search, symbols, outline, navigation -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The Trifecta authors

;; Author: The Trifecta authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: tools, languages, convenience
;; URL: https://github.com/trifecta/trifecta

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify it under the terms of
;; the GNU General Public License as published by the Free Software Foundation, either version 3
;; of the License, or (at your option) any later version.

;;; Commentary:

;; An Emacs client of `trifectad', the Trifecta code-context daemon.  It speaks the daemon's
;; socket protocol directly (newline-delimited JSON-RPC 2.0 over a Unix socket, `hello' first;
;; docs/protocol.md) through one asynchronous network process: no command shells out to the CLI
;; per request, and Emacs never waits on the daemon.  When the daemon is not running, the first
;; command starts it once with `trifecta daemon start' (see `trifecta-auto-start').
;;
;; Commands (all asynchronous; the answer appears when the daemon replies):
;;   `trifecta-search'        ranked search of the project, pick a hit, jump to it
;;                            (C-u: path glob and kind filter; or type `path:json/ kind:code')
;;   `trifecta-find-symbol'   complete a sym:// URI (or a bare name) and jump to its definition
;;   `trifecta-outline'       the current file's definitions in a side buffer
;;   `trifecta-definition', `trifecta-hover', `trifecta-references', `trifecta-diagnostics'
;;                            navigation from Pyright when READY, else from the AST fallback;
;;                            the answering backend is always shown
;;   `trifecta-context'       `ctx.get' output under a token budget in a scratch buffer
;;   `trifecta-map'           the project's most central files and their most used definitions,
;;                            within a token budget (C-u: a folder or file, and the budget)
;;   `trifecta-mode'          global minor mode: a mode-line lighter with the daemon, index and
;;                            language-server state of the current buffer's project
;;
;; Threading and failure behaviour: everything runs on Emacs's main thread from process filters
;; and timers.  Replies are matched to requests by id; a request without a reply within
;; `trifecta-timeout' seconds fails with a clear message, and a daemon that said nothing during
;; that time is treated as gone.  When the daemon goes away, every pending request fails with a
;; message naming it, and the next command reconnects (starting the daemon again if allowed).
;;
;; Install: `package-install-file' on this file, `package-vc-install', or
;;   (use-package trifecta :load-path "/path/to/trifecta/editors/emacs"
;;     :config (trifecta-mode 1))

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'json)
(require 'xref)
(require 'project)
(require 'compile)

(declare-function consult--read "ext:consult")
(declare-function consult--jump-state "ext:consult")

;;;; Customization

(defgroup trifecta nil
  "Code context from the trifecta daemon."
  :group 'tools
  :prefix "trifecta-")

(defcustom trifecta-cli-program "trifecta"
  "The `trifecta' command line; used only to run `trifecta daemon start'."
  :type 'string)

(defcustom trifecta-daemon-program nil
  "Path of `trifectad' for the CLI to start, or nil for the CLI's default.
It is passed to `trifecta daemon start' as TRIFECTA_DAEMON."
  :type '(choice (const :tag "The CLI's default" nil) file))

(defcustom trifecta-socket nil
  "The daemon's socket, or nil for the protocol's default.
The default is $TRIFECTA_SOCKET, else $XDG_RUNTIME_DIR/trifecta/trifectad.sock,
else /tmp/trifecta-UID/trifectad.sock."
  :type '(choice (const :tag "Default" nil) file))

(defcustom trifecta-auto-start t
  "Whether a command that finds no daemon starts it with `trifecta daemon start'."
  :type 'boolean)

(defcustom trifecta-timeout 15
  "Seconds to wait for a reply before the request fails."
  :type 'number)

(defcustom trifecta-start-timeout 20
  "Seconds `trifecta daemon start' may take."
  :type 'number)

(defcustom trifecta-budget 2000
  "Token budget of `trifecta-context' (16 to 1000000)."
  :type 'integer)

(defcustom trifecta-map-budget 1024
  "Token budget of `trifecta-map' (64..100000)."
  :type 'integer)

(defcustom trifecta-context-mode "skeleton"
  "Disclosure mode of `trifecta-context'."
  :type '(choice (const "skeleton") (const "excerpt") (const "raw")))

(defcustom trifecta-search-limit 50
  "Number of hits `trifecta-search' asks for."
  :type 'integer)

(defcustom trifecta-wait-ready-ms 0
  "Milliseconds navigation requests let the daemon wait for a READY Pyright.
0 answers at once, from the AST fallback while Pyright warms up."
  :type 'integer)

(defcustom trifecta-status-min-interval 1.0
  "Seconds between two status polls while something changes."
  :type 'number)

(defcustom trifecta-status-max-interval 30.0
  "Longest status poll interval; it doubles up to this while nothing changes."
  :type 'number)

(defcustom trifecta-poll-starts-daemon nil
  "Whether the mode-line poll of `trifecta-mode' may start the daemon."
  :type 'boolean)

(defcustom trifecta-segment nil
  "The segment (project root) of the current buffer, or nil to find it.
Set it in .dir-locals.el for trees that are neither version-controlled nor
known to the daemon."
  :type '(choice (const :tag "Find it" nil) directory)
  :safe #'stringp)

(defcustom trifecta-segment-markers
  '(".git" "_ctx")
  "Files or directories whose parent directory is a segment root, in order.
The nearest directory above the file holding the first marker wins; the next
marker is looked for only when no directory holds it.  This is the rule of the
CLI and Neovim, so every client of one tree shares one daemon segment.  `_ctx'
is the directory the daemon keeps in every segment it has opened."
  :type '(repeat string))

(defface trifecta-score '((t :inherit font-lock-constant-face))
  "Face of the score in search candidates.")

(defface trifecta-path '((t :inherit font-lock-string-face))
  "Face of paths in search candidates and the outline.")

(defconst trifecta-protocol "1.1" "The protocol version this package speaks.")
(defconst trifecta-version "0.1.0" "This package's version.")

;;;; JSON

(defun trifecta--json-encode (object)
  "Encode plist OBJECT as one line of compact JSON."
  (if (fboundp 'json-serialize)
      (json-serialize object)
    (let ((json-encoding-pretty-print nil)) (json-encode object))))

(defun trifecta--json-decode (string)
  "Decode STRING into plists with keyword keys.
Arrays become lists; null and false become nil."
  (if (and (fboundp 'json-parse-string) (fboundp 'json-available-p) (json-available-p))
      (json-parse-string string :object-type 'plist :array-type 'list
                         :null-object nil :false-object nil)
    (let ((json-object-type 'plist) (json-array-type 'list) (json-key-type 'keyword)
          (json-false nil) (json-null nil))
      (json-read-from-string string))))

;;;; Connection

(defvar trifecta-mode)

(defvar trifecta--process nil "The network process connected to the daemon, or nil.")
(defvar trifecta--starting nil "The `trifecta daemon start' process while it runs.")
(defvar trifecta--queue nil "Requests waiting for the daemon to start: list of argument lists.")
(defvar trifecta--pending (make-hash-table :test 'eql)
  "Requests sent and not answered: id -> `trifecta--req'.")
(defvar trifecta--next-id 0 "The last request id used.")
(defvar trifecta--last-recv 0.0 "`float-time' of the last bytes received from the daemon.")
(defvar trifecta--hello nil "The daemon's `hello' result on the current connection.")
(defvar trifecta-last-error nil "The message of the last failure shown to the user.")
(defvar trifecta-progress-functions nil
  "Hook run with (SEGMENT-ID DONE TOTAL) on every `ctx.progress' notification.")

(cl-defstruct (trifecta--req (:constructor trifecta--req-create))
  id method params on-result on-error timer sent timeout)

(defun trifecta-socket-path ()
  "The socket path to use (see `trifecta-socket')."
  (or trifecta-socket
      (let ((env (getenv "TRIFECTA_SOCKET"))) (and env (not (string-empty-p env)) env))
      (let ((xdg (getenv "XDG_RUNTIME_DIR")))
        (and xdg (not (string-empty-p xdg)) (expand-file-name "trifecta/trifectad.sock" xdg)))
      (format "/tmp/trifecta-%d/trifectad.sock" (user-uid))))

(defun trifecta--error (name message &optional data)
  "A local error object like the daemon's (NAME, MESSAGE, DATA)."
  (list :code 0 :message message :data (append (list :name name) data)))

(defun trifecta--error-name (err)
  "The symbolic name of error object ERR (e.g. \"UNAVAILABLE\")."
  (plist-get (plist-get err :data) :name))

(defvar trifecta-last-message nil
  "The last message a trifecta command showed (an answer or a failure).")

(defun trifecta--msg (format-string &rest args)
  "Show FORMAT-STRING with ARGS in the echo area.
Also remember the text in `trifecta-last-message'."
  (setq trifecta-last-message (apply #'format format-string args))
  (message "%s" trifecta-last-message))

(defun trifecta--fail (format-string &rest args)
  "Show a failure built from FORMAT-STRING and ARGS, like `trifecta--msg'.
Also remember the text in `trifecta-last-error'."
  (setq trifecta-last-error (apply #'format format-string args))
  (trifecta--msg "%s" trifecta-last-error))

(defun trifecta--report (what err)
  "Show ERR, the failure of WHAT, as a message.
Also remember it in `trifecta-last-error'."
  (let ((msg (format "trifecta: %s failed: %s" what (plist-get err :message))))
    (trifecta--fail "%s" msg)))

(defun trifecta--safe-call (fn &rest args)
  "Call FN with ARGS; show an error it signals.
No error escapes into a process filter or timer."
  (condition-case err
      (apply fn args)
    ((debug error)
     (trifecta--fail "%s" (format "trifecta: %s" (error-message-string err))))))

(defun trifecta-connected-p ()
  "Non-nil when a connection to the daemon is open."
  (and trifecta--process (process-live-p trifecta--process)))

(defvar trifecta--connect-error nil "Why the last connection attempt failed.")

(defun trifecta--connect ()
  "Open the connection and send `hello'.
Return nil when no daemon listens (the reason is in `trifecta--connect-error')."
  (let* ((socket (trifecta-socket-path))
         (proc (condition-case err
                   (make-network-process
                    :name "trifecta" :family 'local :service socket
                    :coding 'utf-8-unix :noquery t
                    :filter #'trifecta--filter :sentinel #'trifecta--sentinel)
                 (file-error
                  ;; No socket, a socket nobody listens on (a daemon that died), or one we may
                  ;; not use: no daemon for us.  `trifecta daemon start' sorts out which.
                  (setq trifecta--connect-error
                        (format "cannot connect to %s: %s" socket
                                (let ((why (nth 2 err)))
                                  (if (stringp why) why (error-message-string err)))))
                  nil))))
    (when proc
      (process-put proc 'trifecta-chunks nil)
      (setq trifecta--process proc trifecta--hello nil)
      (trifecta--send
       "hello" (list :protocol trifecta-protocol :client_name "trifecta.el"
                     :client_version trifecta-version)
       (lambda (r) (setq trifecta--hello r))
       (lambda (err)
         (trifecta--report "hello" err)
         (when (equal (trifecta--error-name err) "VERSION_MISMATCH")
           (trifecta-disconnect))))
      proc)))

(defun trifecta-disconnect ()
  "Close the connection to the daemon (the next command reconnects)."
  (interactive)
  (when trifecta--process
    (let ((p trifecta--process))
      (setq trifecta--process nil)
      (delete-process p)
      (trifecta--fail-all "trifectad connection closed"))))

(defun trifecta--fail-all (why)
  "Fail every pending request with WHY."
  (let (reqs)
    (maphash (lambda (_ r) (push r reqs)) trifecta--pending)
    (clrhash trifecta--pending)
    (dolist (r (sort reqs (lambda (a b) (< (trifecta--req-id a) (trifecta--req-id b)))))
      (when (trifecta--req-timer r) (cancel-timer (trifecta--req-timer r)))
      (trifecta--safe-call (trifecta--req-on-error r)
                           (trifecta--error "DISCONNECTED"
                                            (concat why "; the next command reconnects"))))))

(defun trifecta--sentinel (proc event)
  "Handle EVENT on PROC: the daemon closed the connection or went away."
  (unless (process-live-p proc)
    (when (eq proc trifecta--process)
      (setq trifecta--process nil)
      (trifecta--fail-all
       (format "trifectad went away (%s)" (string-trim event)))
      ;; The lighter says so at once rather than at its next (backed-off) poll.
      (when trifecta-mode (trifecta--poll-soon)))))

(defun trifecta--filter (proc chunk)
  "Split CHUNK from PROC into NDJSON lines and dispatch each."
  (setq trifecta--last-recv (float-time))
  (if (not (string-search "\n" chunk))
      (process-put proc 'trifecta-chunks (cons chunk (process-get proc 'trifecta-chunks)))
    (let* ((buf (apply #'concat (nreverse (cons chunk (process-get proc 'trifecta-chunks)))))
           (start 0) nl)
      (process-put proc 'trifecta-chunks nil)
      (while (setq nl (string-search "\n" buf start))
        (let ((line (substring buf start nl)))
          (setq start (1+ nl))
          (unless (string-blank-p line) (trifecta--dispatch line))))
      (when (< start (length buf))
        (process-put proc 'trifecta-chunks (list (substring buf start)))))))

(defun trifecta--dispatch (line)
  "Handle one JSON-RPC LINE from the daemon."
  (let ((msg (condition-case err (trifecta--json-decode line)
               (error (message "trifecta: unreadable reply (%s): %.80s"
                               (error-message-string err) line)
                      nil))))
    (cond
     ((null msg))
     ((plist-member msg :id)
      (let ((req (gethash (plist-get msg :id) trifecta--pending)))
        (when req
          (remhash (trifecta--req-id req) trifecta--pending)
          (when (trifecta--req-timer req) (cancel-timer (trifecta--req-timer req)))
          (if (plist-member msg :error)
              (trifecta--safe-call (trifecta--req-on-error req) (plist-get msg :error))
            (trifecta--safe-call (trifecta--req-on-result req) (plist-get msg :result))))))
     ((equal (plist-get msg :method) "ctx.progress")
      (let ((p (plist-get msg :params)))
        (run-hook-with-args 'trifecta-progress-functions
                            (plist-get p :segment_id) (plist-get p :done) (plist-get p :total)))))))

(defun trifecta--send (method params on-result on-error &optional timeout)
  "Send METHOD with PARAMS on the open connection.
ON-RESULT or ON-ERROR is called later.  TIMEOUT is in seconds (default
`trifecta-timeout'; 0 means none)."
  (let* ((id (cl-incf trifecta--next-id))
         (timeout (or timeout trifecta-timeout))
         (req (trifecta--req-create :id id :method method :params params :on-result on-result
                                    :on-error on-error :sent (float-time) :timeout timeout)))
    (puthash id req trifecta--pending)
    (when (> timeout 0)
      (setf (trifecta--req-timer req) (run-at-time timeout nil #'trifecta--timed-out id)))
    (condition-case err
        (process-send-string
         trifecta--process
         (concat (trifecta--json-encode
                  (append (list :jsonrpc "2.0" :id id :method method)
                          (and params (list :params params))))
                 "\n"))
      (error
       (remhash id trifecta--pending)
       (when (trifecta--req-timer req) (cancel-timer (trifecta--req-timer req)))
       (trifecta--safe-call on-error (trifecta--error "DISCONNECTED"
                                                      (format "cannot send to trifectad: %s"
                                                              (error-message-string err))))))
    id))

(defun trifecta--timed-out (id)
  "Fail request ID, which got no reply in time.
A daemon silent since the request was sent is treated as gone: the
connection is dropped."
  (let ((req (gethash id trifecta--pending)))
    (when req
      (remhash id trifecta--pending)
      (let ((silent (< trifecta--last-recv (trifecta--req-sent req))))
        (trifecta--safe-call
         (trifecta--req-on-error req)
         (trifecta--error "TIMEOUT"
                          (format "no reply to %s within %s s%s" (trifecta--req-method req)
                                  (trifecta--req-timeout req)
                                  (if silent "; trifectad is not answering, the next command reconnects"
                                    ""))))
        (when (and silent trifecta--process)
          (trifecta-disconnect))))))

(defun trifecta--start-daemon ()
  "Run `trifecta daemon start' asynchronously.
The queued requests go out when it is done."
  (let* ((process-environment
          (if trifecta-daemon-program
              (cons (concat "TRIFECTA_DAEMON=" (expand-file-name trifecta-daemon-program))
                    process-environment)
            process-environment))
         (buf (get-buffer-create " *trifecta-start*")))
    (with-current-buffer buf (erase-buffer))
    (message "trifecta: starting trifectad…")
    (condition-case err
        (let ((proc (make-process
                     :name "trifecta-start" :buffer buf :noquery t :connection-type 'pipe
                     :command (list trifecta-cli-program "--socket" (trifecta-socket-path)
                                    "--timeout" (number-to-string trifecta-start-timeout)
                                    "daemon" "start")
                     :sentinel #'trifecta--start-sentinel)))
          (setq trifecta--starting proc)
          (process-put proc 'trifecta-timer
                       (run-at-time trifecta-start-timeout nil
                                    (lambda ()
                                      (when (process-live-p proc)
                                        (delete-process proc)
                                        (trifecta--fail-queue
                                         (format "`%s daemon start' did not finish within %s s"
                                                 trifecta-cli-program trifecta-start-timeout)))))))
      (error
       (trifecta--fail-queue
        (format "cannot run %s (%s); set `trifecta-cli-program'"
                trifecta-cli-program (error-message-string err)))))))

(defun trifecta--start-sentinel (proc _event)
  "Connect after the start process PROC finished, or fail the queue."
  (unless (process-live-p proc)
    (when (eq proc trifecta--starting)
      (setq trifecta--starting nil)
      (cancel-timer (process-get proc 'trifecta-timer))
      (let ((out (with-current-buffer (process-buffer proc) (string-trim (buffer-string)))))
        (if (not (and (eq (process-status proc) 'exit) (= (process-exit-status proc) 0)))
            (trifecta--fail-queue
             (format "`%s daemon start' failed: %s (check `trifecta-cli-program' and the daemon log)"
                     trifecta-cli-program out))
          (condition-case err
              (if (trifecta--connect)
                  (let ((queue (reverse trifecta--queue)))
                    (setq trifecta--queue nil)
                    (message "trifecta: trifectad started")
                    (dolist (args queue) (apply #'trifecta--send args)))
                (trifecta--fail-queue (format "trifectad started but %s" trifecta--connect-error)))
            (error (trifecta--fail-queue (error-message-string err)))))))))

(defun trifecta--fail-queue (why)
  "Fail every request waiting for the daemon to start with WHY."
  (let ((queue (reverse trifecta--queue)))
    (setq trifecta--queue nil)
    (dolist (args queue)
      (trifecta--safe-call (nth 3 args) (trifecta--error "UNAVAILABLE" why)))))

(cl-defun trifecta-request (method params &key on-result on-error timeout no-start)
  "Send METHOD with PARAMS (a plist) to the daemon, asynchronously.
ON-RESULT is called with the result plist, ON-ERROR with an error plist
\(:code :message :data); the default ON-ERROR shows a message.  TIMEOUT is in
seconds (0: none).  Connects, and starts the daemon unless NO-START or
`trifecta-auto-start' is nil.  Returns immediately."
  (let ((on-result (or on-result #'ignore))
        (on-error (or on-error (lambda (err) (trifecta--report method err)))))
    (cond
     ((trifecta-connected-p)
      (trifecta--send method params on-result on-error timeout))
     (trifecta--starting
      (push (list method params on-result on-error timeout) trifecta--queue))
     (t
      (let ((proc (condition-case err (trifecta--connect)
                    (error (trifecta--safe-call
                            on-error (trifecta--error "UNAVAILABLE"
                                                      (format "cannot connect to %s: %s"
                                                              (trifecta-socket-path)
                                                              (error-message-string err))))
                           'failed))))
        (cond
         ((eq proc 'failed) nil)
         (proc (trifecta--send method params on-result on-error timeout))
         ((and trifecta-auto-start (not no-start))
          (push (list method params on-result on-error timeout) trifecta--queue)
          (trifecta--start-daemon))
         (t
          (trifecta--safe-call
           on-error
           (trifecta--error "UNAVAILABLE"
                            (format "trifectad is not running (%s); start it with \
`trifecta daemon start' or set `trifecta-auto-start'" trifecta--connect-error))))))))))

(defun trifecta-request-sync (method params &optional timeout)
  "Send METHOD with PARAMS and wait for the reply (for scripts and tests).
Return the result; signal `user-error' with the daemon's message on failure.
Timers and other process output keep running while it waits.  TIMEOUT is in
seconds (0: wait as long as it takes)."
  (let ((done nil) (result nil) (failure nil)
        (deadline (if (eql timeout 0) 1.0e+INF (+ (float-time) (or timeout trifecta-timeout) 1))))
    (trifecta-request method params
                      :on-result (lambda (r) (setq result r done t))
                      :on-error (lambda (e) (setq failure e done t))
                      :timeout timeout)
    (while (and (not done) (< (float-time) deadline))
      (accept-process-output nil 0.01))
    (cond (failure (user-error "trifecta: %s: %s" method (plist-get failure :message)))
          ((not done) (user-error "trifecta: %s: no reply" method))
          (t result))))

;;;; Segments, paths, positions

(defvar-local trifecta--buffer-segment nil "Cached segment root of this buffer.")

(defun trifecta--canonical-dir (dir)
  "DIR as an absolute, symlink-free directory name without a trailing slash."
  (directory-file-name (file-truename (expand-file-name dir))))

(defun trifecta--too-broad-p (dir)
  "Non-nil when DIR (canonical) is the filesystem root or the home directory."
  (or (equal dir "/")
      (let ((home (getenv "HOME")))
        (and home (not (string-empty-p home))
             (equal dir (trifecta--canonical-dir home))))))

(defun trifecta-segment-root (&optional buffer)
  "The segment (project root) of BUFFER (default: the current one), absolute.
The last fallback, the buffer's directory, is never the filesystem root or the
home directory (the daemon would index everything under it): there, outside
any marker and project, this signals a `user-error' that says so."
  (with-current-buffer (or buffer (current-buffer))
    (or (and (not trifecta-segment) trifecta--buffer-segment)
        (let* ((found (or trifecta-segment
                          (cl-some (lambda (m) (locate-dominating-file default-directory m))
                                   trifecta-segment-markers)
                          (let ((pr (project-current nil))) (and pr (project-root pr)))))
               (root (trifecta--canonical-dir (or found default-directory))))
          (when (and (not found) (trifecta--too-broad-p root))
            (user-error "trifecta: no project here: %s is %s, not a git work tree or a tree trifecta has opened, and would be indexed whole; visit a project's file, or set `trifecta-segment'"
                        root (if (equal root "/") "the filesystem root" "your home directory")))
          (unless trifecta-segment (setq trifecta--buffer-segment root))
          root))))

(defun trifecta--file ()
  "The current buffer's file, absolute; `user-error' without one."
  (unless buffer-file-name (user-error "trifecta: this buffer does not visit a file"))
  (file-truename buffer-file-name))

(defun trifecta--position-params ()
  "Params naming point: segment, path, 1-based line and column (in characters)."
  (list :segment (trifecta-segment-root) :path (trifecta--file)
        :line (line-number-at-pos (point) t)
        :column (1+ (- (point) (line-beginning-position)))))

(defun trifecta--abs (root path)
  "PATH from a reply (segment-relative or absolute) as a file under ROOT."
  (if (file-name-absolute-p path) path (expand-file-name path root)))

(defun trifecta--module-of (path)
  "The Python module name of segment-relative PATH.
\"json/decoder.py\" gives \"json.decoder\"."
  (let ((m (file-name-sans-extension path)))
    (when (string-suffix-p "/__init__" m) (setq m (substring m 0 -9)))
    (replace-regexp-in-string "/" "." m)))

(defun trifecta--ui (fn &rest args)
  "Run FN with ARGS from a timer, out of the process filter.
There the minibuffer and windows are safe to use.  If a minibuffer is active
\(the user is typing), wait until it is not."
  (run-at-time 0 nil #'trifecta--ui-run fn args))

(defun trifecta--ui-run (fn args)
  "Run FN with ARGS when no minibuffer is active, else try again shortly."
  (if (active-minibuffer-window)
      (run-at-time 0.2 nil #'trifecta--ui-run fn args)
    (let ((inhibit-quit nil))
      (condition-case err
          (apply fn args)
        (quit (message "trifecta: cancelled"))
        (user-error (trifecta--fail "%s" (error-message-string err)))
        ((debug error) (trifecta--fail "%s" (format "trifecta: %s" (error-message-string err))))))))

(defvar trifecta-after-jump-hook nil "Hook run after a trifecta command jumped to a location.")

(defun trifecta--jump (file line &optional column)
  "Visit FILE at LINE and COLUMN (1-based, in characters).
The xref marker stack gets the position left, so `M-,' comes back."
  (unless (file-exists-p file) (user-error "trifecta: %s does not exist" file))
  (xref-push-marker-stack)
  (find-file file)
  (widen)
  (goto-char (point-min))
  (forward-line (1- line))
  (when (and column (> column 1))
    (forward-char (min (1- column) (- (line-end-position) (point)))))
  (run-hooks 'trifecta-after-jump-hook))

(defun trifecta--backend-text (r)
  "How reply R was answered: \"lsp (READY)\", \"lsp+ast (READY, AST asked: lsp_empty)\"
\(Pyright's answer with the AST's added) or \"AST fallback (lsp COLD: …)\"."
  (cond
   ((equal (plist-get r :backend) "lsp")
    (format "lsp (%s)" (or (plist-get r :lsp_state) "READY")))
   ((equal (plist-get r :backend) "lsp+ast")
    (format "lsp+ast (%s%s)" (or (plist-get r :lsp_state) "READY")
            (let ((why (plist-get r :merge_reason))) (if why (concat ", AST asked: " why) ""))))
   (t
    (format "AST fallback (lsp %s%s%s)" (or (plist-get r :lsp_state) "?")
            (let ((why (plist-get r :fallback_reason))) (if why (concat ": " why) ""))
            (let ((rule (plist-get r :rule))) (if rule (concat ", rule " rule) ""))))))

;;;; Search

(defvar trifecta-search-history nil "History of `trifecta-search' queries.")
(defvar trifecta-symbol-history nil "History of `trifecta-find-symbol'.")

(defun trifecta--parse-query (query)
  "Split QUERY into (TEXT PATH KIND).
Words `path:GLOB' and `kind:KIND' are filters."
  (let (words path kind)
    (dolist (w (split-string query "[ \t]+" t))
      (cond ((string-prefix-p "path:" w) (setq path (substring w 5)))
            ((string-prefix-p "kind:" w) (setq kind (substring w 5)))
            (t (push w words))))
    (list (string-join (nreverse words) " ") path kind)))

(defun trifecta--hit-candidate (hit)
  "The completion candidate of search HIT: score, path:line, kind, title, preview."
  (concat (propertize (format "%7.2f" (or (plist-get hit :score) 0)) 'face 'trifecta-score)
          "  "
          (propertize (format "%s:%d" (plist-get hit :path) (plist-get hit :start_line))
                      'face 'trifecta-path)
          "  " (or (plist-get hit :kind) "")
          "  " (or (plist-get hit :title) "")
          (let ((p (plist-get hit :preview)))
            (if (and p (not (string-empty-p p))) (concat "  — " (string-trim p)) ""))))

(defun trifecta--search-candidates (hits)
  "An alist (CANDIDATE . HIT) for HITS, candidates unique."
  (let ((seen (make-hash-table :test 'equal)) out)
    (dolist (h hits)
      (let* ((c (trifecta--hit-candidate h)) (n (gethash c seen 0)))
        (puthash c (1+ n) seen)
        (when (> n 0) (setq c (format "%s <%d>" c (1+ n))))
        (push (cons c h) out)))
    (nreverse out)))

(defun trifecta--completion-table (cands)
  "A completion table over the alist CANDS that keeps their order."
  (lambda (string pred action)
    (if (eq action 'metadata)
        '(metadata (display-sort-function . identity) (cycle-sort-function . identity)
                   (category . trifecta))
      (complete-with-action action cands string pred))))

(defun trifecta--consult-state (root alist)
  "A consult :state function previewing the hits of ALIST (files under ROOT)."
  (let ((jump (consult--jump-state)))
    (lambda (action cand)
      (let* ((hit (cdr (assoc cand alist)))
             (marker (and hit (trifecta--hit-marker root hit))))
        (funcall jump action marker)))))

(defun trifecta--hit-marker (root hit)
  "A marker at HIT's first line in its file under ROOT (the file is visited)."
  (let ((file (trifecta--abs root (plist-get hit :path))))
    (when (file-exists-p file)
      (with-current-buffer (find-file-noselect file)
        (save-restriction
          (widen)
          (save-excursion
            (goto-char (point-min))
            (forward-line (1- (plist-get hit :start_line)))
            (point-marker)))))))

(defun trifecta--choose (prompt alist &optional root)
  "Read one key of ALIST with PROMPT and return its value.
With consult installed, the hits under ROOT are previewed."
  (let* ((table (trifecta--completion-table alist))
         (choice
          (if (and root (featurep 'consult) (fboundp 'consult--read) (fboundp 'consult--jump-state))
              (consult--read table :prompt prompt :require-match t :sort nil
                             :state (trifecta--consult-state root alist))
            (completing-read prompt table nil t))))
    (or (cdr (assoc choice alist)) (user-error "trifecta: nothing chosen"))))

(defun trifecta--corrected-note (reply)
  "The prompt's note on REPLY's corrected words, or \"\".
\" (searched as: lenght → length)\": the daemon names each query word
the index lacks and the word it searched instead (protocol 1.7)."
  (let ((c (plist-get reply :corrected)))
    (if c
        (format " (searched as: %s)"
                (mapconcat (lambda (x) (format "%s → %s" (plist-get x :from) (plist-get x :to)))
                           c ", "))
      "")))

(defun trifecta--search-show (root query reply)
  "Let the user pick one of REPLY's hits for QUERY under ROOT and jump to it."
  (let ((hits (plist-get reply :hits)))
    (if (null hits)
        (trifecta--msg "trifecta: no hits for %S%s%s" query
                       (let ((r (plist-get reply :reason))) (if r (format " (%s)" r) ""))
                       (let ((d (plist-get reply :did_you_mean)))
                         (if d (format "; did you mean: %s" (mapconcat #'identity d ", ")) "")))
      (let* ((hit (trifecta--choose (format "trifecta %s%s [%d of %d]: " query
                                            (trifecta--corrected-note reply)
                                            (length hits)
                                            (or (plist-get reply :matched) (length hits)))
                                    (trifecta--search-candidates hits) root)))
        (trifecta--jump (trifecta--abs root (plist-get hit :path)) (plist-get hit :start_line))))))

(defun trifecta--read-filters ()
  "Read a path glob and a kind for a filtered search: (PATH KIND).
Empty answers are nil."
  (let ((path (read-string "Path glob (empty: all; `dir/' = under dir): "))
        (kind (completing-read "Kind (empty: all): " '("code" "doc" "other") nil t)))
    (list (and (not (string-empty-p path)) path) (and (not (string-empty-p kind)) kind))))

;;;###autoload
(defun trifecta-search (query &optional path kind)
  "Search the project for QUERY, pick a hit and jump to its file and line.
Words `path:GLOB' and `kind:code|doc|other' in QUERY filter; with a prefix
argument, PATH and KIND are prompted for.  Candidates show the score,
path:line, kind and title."
  (interactive
   (let* ((filters (and current-prefix-arg (trifecta--read-filters)))
          (q (read-string (format "trifecta search%s: "
                                  (if filters
                                      (format " [path:%s kind:%s]" (or (car filters) "*")
                                              (or (cadr filters) "*"))
                                    ""))
                          nil 'trifecta-search-history)))
     (cons q filters)))
  (pcase-let* ((`(,text ,qpath ,qkind) (trifecta--parse-query query))
               (path (or path qpath)) (kind (or kind qkind))
               (root (trifecta-segment-root)))
    (when (< (length text) 2) (user-error "trifecta: a query needs at least 2 characters"))
    (trifecta-request
     "ctx.search"
     (append (list :segment root :query text :limit trifecta-search-limit)
             (and path (list :path path)) (and kind (list :kind kind)))
     :on-result (lambda (r) (trifecta--ui #'trifecta--search-show root query r))
     :on-error (lambda (e) (trifecta--report "search" e)))))

;;;; Symbols

(defun trifecta--symbol-candidates (hits)
  "sym:// URIs of the definitions among search HITS."
  (let (out)
    (dolist (h hits)
      (let ((title (plist-get h :title)) (path (plist-get h :path)))
        (when (and title path (string-suffix-p ".py" path)
                   (string-match-p "\\`[A-Za-z_][A-Za-z0-9_.]*\\'" title))
          (cl-pushnew (format "sym://python/%s/%s" (trifecta--module-of path) title) out
                      :test #'equal))))
    (nreverse out)))

(defun trifecta--resolve-and-jump (root uri)
  "Resolve URI in segment ROOT and jump to it.
When it is ambiguous or unknown, offer the daemon's candidates."
  (trifecta-request
   "sym.resolve" (list :segment root :uri uri)
   :on-result (lambda (r)
                (trifecta--ui (lambda ()
                                (trifecta--jump (trifecta--abs root (plist-get r :file))
                                                (plist-get r :line))
                                (trifecta--msg "trifecta: %s (%s, %s:%d)" (plist-get r :uri)
                                               (plist-get r :kind) (plist-get r :file)
                                               (plist-get r :line)))))
   :on-error
   (lambda (e)
     (let* ((data (plist-get e :data))
            (alts (append (mapcar (lambda (c) (format "sym://python/%s/%s" (plist-get c :module)
                                                      (plist-get c :qualname)))
                                  (plist-get data :candidates))
                          (plist-get data :suggestions))))
       (if (null alts)
           (trifecta--report (format "sym %s" uri) e)
         (trifecta--ui
          (lambda ()
            (let ((pick (completing-read (format "%s — pick: " (plist-get e :message))
                                         (trifecta--completion-table
                                          (mapcar (lambda (a) (cons a a)) (delete-dups alts)))
                                         nil t)))
              (trifecta--resolve-and-jump root pick)))))))))

;;;###autoload
(defun trifecta-find-symbol (name)
  "Jump to the definition of NAME.
NAME is a sym:// URI, `module/Qual.name', or a bare name.  A bare name is
looked up by name in the index and offered as sym:// URIs to choose from."
  (interactive
   (list (read-string "trifecta symbol (sym://python/module/Qual.name or name): "
                      (let ((s (thing-at-point 'symbol t))) s)
                      'trifecta-symbol-history)))
  (let ((root (trifecta-segment-root)) (name (string-trim name)))
    (cond
     ((string-empty-p name) (user-error "trifecta: no symbol given"))
     ((string-prefix-p "sym://" name) (trifecta--resolve-and-jump root name))
     ((string-search "/" name) (trifecta--resolve-and-jump root (concat "sym://python/" name)))
     ((< (length name) 2) (user-error "trifecta: a name needs at least 2 characters"))
     (t
      (trifecta-request
       "ctx.search" (list :segment root :query name :kind "code" :limit trifecta-search-limit)
       :on-result
       (lambda (r)
         (let* ((uris (trifecta--symbol-candidates (plist-get r :hits)))
                (last (car (last (split-string name "\\." t))))
                (exact (cl-remove-if-not
                        (lambda (u) (string-match-p (concat "[/.]" (regexp-quote last) "\\'") u))
                        uris)))
           (setq uris (append exact (cl-set-difference uris exact :test #'equal)))
           (if (null uris)
               (progn (trifecta--fail "%s" (format "trifecta: no symbol named %S" name)))
             (trifecta--ui
              (lambda ()
                (trifecta--resolve-and-jump
                 root (completing-read "trifecta symbol: "
                                       (trifecta--completion-table (mapcar (lambda (u) (cons u u)) uris))
                                       nil t nil 'trifecta-symbol-history)))))))
       :on-error (lambda (e) (trifecta--report "symbol search" e)))))))

;;;; Outline

(defun trifecta--listing-keymap (visit refresh)
  "A keymap for a listing of definitions.
RET and mouse-2 run VISIT, g runs REFRESH, n and p move."
  (let ((m (make-sparse-keymap)))
    (define-key m (kbd "RET") visit)
    (define-key m (kbd "<mouse-2>") visit)
    (define-key m (kbd "n") #'next-line)
    (define-key m (kbd "p") #'previous-line)
    (define-key m (kbd "g") refresh)
    m))

(defvar trifecta-outline-mode-map
  (trifecta--listing-keymap #'trifecta-outline-visit #'trifecta-outline-refresh)
  "Keymap of `trifecta-outline-mode'.")

(define-derived-mode trifecta-outline-mode special-mode "trifecta-outline"
  "The definitions of a Python file; RET jumps to one.
\\{trifecta-outline-mode-map}")

(defvar-local trifecta--outline-source nil "The file this outline shows.")

(defun trifecta-outline-visit ()
  "Jump to the definition on this outline line."
  (interactive)
  (trifecta--visit-line-target "trifecta: no definition on this line"))

(defun trifecta--visit-line-target (none)
  "Visit the `trifecta-target' (FILE . LINE) of this line.
Without one, signal `user-error' NONE.  From the buffer's own window, the file
opens in another window."
  (let ((target (get-text-property (line-beginning-position) 'trifecta-target)))
    (unless target (user-error "%s" none))
    (let ((buf (find-file-noselect (car target))))
      (if (eq (window-buffer) (current-buffer))
          (pop-to-buffer buf '((display-buffer-reuse-window display-buffer-use-some-window)
                               (inhibit-same-window . t)))
        (pop-to-buffer-same-window buf))
      (widen)
      (goto-char (point-min))
      (forward-line (1- (cdr target)))
      (run-hooks 'trifecta-after-jump-hook))))

(defun trifecta-outline-refresh ()
  "Ask the daemon again for the outline of this buffer's file."
  (interactive)
  (when trifecta--outline-source
    (with-current-buffer (find-file-noselect trifecta--outline-source) (trifecta-outline))))

(defun trifecta--outline-depth (qualname)
  "Nesting depth of QUALNAME (dots, not counting `<locals>')."
  (cl-count ?. (replace-regexp-in-string "\\.<locals>" "" qualname)))

(defun trifecta--outline-show (file reply)
  "Fill and show the outline buffer of FILE from the `ast.symbols' REPLY."
  (let ((buf (get-buffer-create "*trifecta-outline*"))
        (entries (append (mapcar (lambda (s) (list (plist-get s :line) (plist-get s :qualname)
                                                   (plist-get s :kind) (plist-get s :signature)))
                                 (plist-get reply :symbols))
                         (mapcar (lambda (c) (list (plist-get c :line) (plist-get c :name)
                                                   "constant" nil))
                                 (plist-get reply :constants)))))
    (setq entries (sort entries (lambda (a b) (< (car a) (car b)))))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (trifecta-outline-mode)
        (setq trifecta--outline-source file)
        (setq header-line-format
              (format " %s — %d definitions%s" (plist-get reply :file) (length entries)
                      (if (equal (plist-get reply :status) "partial") " (syntax errors)" "")))
        (dolist (e entries)
          (pcase-let ((`(,line ,qualname ,kind ,sig) e))
            (let ((start (point))
                  (name (car (last (split-string qualname "\\.")))))
              (insert (propertize (format "%5d " line) 'face 'line-number)
                      (make-string (* 2 (trifecta--outline-depth qualname)) ?\s)
                      (propertize (pcase kind ("class" "class ") ("method" "def ")
                                         ("function" "def ") (_ ""))
                                  'face 'font-lock-keyword-face)
                      (propertize name 'face (if (equal kind "constant")
                                                 'font-lock-variable-name-face
                                               'font-lock-function-name-face))
                      (or sig "") "\n")
              (add-text-properties start (point)
                                   (list 'trifecta-target (cons file line)
                                         'mouse-face 'highlight)))))
        (goto-char (point-min))))
    (display-buffer-in-side-window buf '((side . right) (slot . 0) (window-width . 45)))
    buf))

;;;###autoload
(defun trifecta-outline ()
  "Show the current file's definitions in a side buffer; RET on one jumps to it."
  (interactive)
  (let ((file (trifecta--file)) (root (trifecta-segment-root)))
    (trifecta-request "ast.symbols" (list :segment root :path file)
                      :on-result (lambda (r) (trifecta--ui #'trifecta--outline-show file r))
                      :on-error (lambda (e) (trifecta--report "outline" e)))))

;;;; Repo map

(defvar trifecta-map-mode-map
  (trifecta--listing-keymap #'trifecta-map-visit #'trifecta-map-refresh)
  "Keymap of `trifecta-map-mode'.")

(defconst trifecta--map-font-lock
  '(("^# .*$" . 'trifecta-path)
    ("^ *\\(\"\"\".*\\)$" 1 'font-lock-doc-face)
    ("^ *\\(@[[:alnum:]_.]+\\)" 1 'font-lock-preprocessor-face)
    ("^ *\\(?:async \\)?\\(class\\|def\\) +\\([[:alnum:]_]+\\)"
     (1 'font-lock-keyword-face) (2 'font-lock-function-name-face))
    ("# L[0-9]+-[0-9]+$" . 'font-lock-comment-face))
  "Highlighting of the map's skeleton text.")

(define-derived-mode trifecta-map-mode special-mode "trifecta-map"
  "A ranked map of a project: its most central files and their most used
definitions.  RET opens the file at the definition on this line; g asks again.
\\{trifecta-map-mode-map}"
  (setq-local font-lock-defaults '(trifecta--map-font-lock t))
  (setq-local truncate-lines t))

(defvar-local trifecta--map-args nil "(ROOT PATH BUDGET) of the map this buffer shows.")

(defun trifecta-map-visit ()
  "Open the file of this map line, at its definition."
  (interactive)
  (trifecta--visit-line-target "trifecta: nothing to open on this line"))

(defun trifecta-map-refresh ()
  "Ask the daemon again for the map this buffer shows."
  (interactive)
  (when trifecta--map-args
    (let ((trifecta-segment (car trifecta--map-args)))
      (apply #'trifecta-map (cdr trifecta--map-args)))))

(defun trifecta--map-line-targets (file)
  "The target line of each line of map FILE (a `MapFile' plist).
A symbol line ends in \"# L<first>-<last>\" (the decorated range) and goes to
the definition line of the symbol spanning it; a decorator line goes where the
definition below it goes; a file's header and module docstring go to line 1, a
docstring line to the definition above it."
  (let ((at 1) (decorators nil) (out nil))
    (dolist (l (split-string (string-trim-right (or (plist-get file :text) "") "\n+") "\n"))
      (let ((symbol (string-match "#[ \t]*L\\([0-9]+\\)-\\([0-9]+\\)[ \t]*$" l)))
        (when symbol
          (let ((first (string-to-number (match-string 1 l)))
                (last (string-to-number (match-string 2 l))))
            (setq at first)
            (cl-loop for sym in (plist-get file :symbols)
                     for line = (plist-get sym :line)
                     when (and (eql (plist-get sym :end_line) last) (<= first line last))
                     return (setq at line))
            (dolist (d decorators) (setcdr d at))
            (setq decorators nil)))
        (let ((entry (cons l at)))
          (when (and (not symbol) (string-match-p "\\`[ \t]*@" l)) (push entry decorators))
          (push entry out))))
    (nreverse out)))

(defun trifecta--map-show (root path budget reply)
  "Fill *trifecta-map* from the `ctx.map' REPLY.
It asked for PATH under ROOT within BUDGET tokens."
  (let* ((buf (get-buffer-create "*trifecta-map*"))
         (files (plist-get reply :files))
         (partial (cl-count-if (lambda (f) (plist-get f :reduced)) files))
         (what (let ((p (plist-get reply :path)))
                 (if (string-empty-p p) (file-name-nondirectory root) p)))
         (summary (format "%s — %d of %d Python files%s, %d of %d tokens" what (length files)
                          (plist-get reply :candidates)
                          (if (> partial 0) (format ", %d in part" partial) "")
                          (plist-get reply :used) (plist-get reply :budget))))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (trifecta-map-mode)
        (setq trifecta--map-args (list root path budget))
        (setq header-line-format (concat " trifecta map of " summary))
        (dolist (f files)
          (let ((abs (trifecta--abs root (plist-get f :path))))
            (pcase-dolist (`(,line . ,target) (trifecta--map-line-targets f))
              (let ((start (point)))
                (insert line "\n")
                (add-text-properties start (point)
                                     (list 'trifecta-target (cons abs target)
                                           'mouse-face 'highlight)))))
          (insert "\n"))
        (unless files (insert "No indexed Python files here.\n"))
        (when (> (or (plist-get reply :skipped) 0) 0)
          (insert (format "%d files could not be read.\n" (plist-get reply :skipped))))
        (when (plist-get reply :truncated)
          (insert (format "More with a budget above %d or a narrower path (C-u M-x trifecta-map).\n"
                          (plist-get reply :budget))))
        (goto-char (point-min))))
    (pop-to-buffer buf)
    (trifecta--msg "trifecta: map of %s%s" summary
                   (if (plist-get reply :truncated) " (a larger budget shows more)" ""))))

;;;###autoload
(defun trifecta-map (&optional path budget)
  "Show the project's ranked map in *trifecta-map*.
The daemon's `ctx.map': the most central files first (by the import graph,
tests and vendored code weighed down), each as a skeleton of its most used
classes, functions and methods with their line ranges, within BUDGET tokens
\(default `trifecta-map-budget').  PATH (a folder or file, absolute or
relative to the project) narrows it; a prefix argument prompts for both.
RET on a line opens its file at the definition."
  (interactive
   (when current-prefix-arg
     (let ((root (trifecta-segment-root)))
       (list (read-file-name "trifecta map of (folder or file): " (file-name-as-directory root)
                             root t)
             (read-number "Budget (tokens): " trifecta-map-budget)))))
  (let* ((root (trifecta-segment-root))
         (path (if (or (null path) (string-empty-p path)) ""
                 (if (file-name-absolute-p path) (directory-file-name (file-truename path)) path)))
         (budget (or budget trifecta-map-budget)))
    (trifecta-request "ctx.map" (list :segment root :path path :budget budget)
                      :on-result (lambda (r) (trifecta--ui #'trifecta--map-show root path budget r))
                      :on-error (lambda (e) (trifecta--report "map" e)))))

;;;; Definition, hover, references, diagnostics

(defun trifecta--line-text (file line cache)
  "The text of LINE in FILE, trimmed (CACHE: hash FILE -> vector of lines)."
  (let ((lines (or (gethash file cache)
                   (puthash file
                            (vconcat (if (file-readable-p file)
                                         (with-temp-buffer
                                           (insert-file-contents file)
                                           (split-string (buffer-string) "\n"))
                                       nil))
                            cache))))
    (if (and (> line 0) (<= line (length lines))) (string-trim (aref lines (1- line))) "")))

(defun trifecta--xrefs (root locations)
  "xref items of LOCATIONS (from an lsp.* reply) under ROOT."
  (let ((cache (make-hash-table :test 'equal)))
    (mapcar (lambda (l)
              (let ((file (trifecta--abs root (plist-get l :path))) (line (plist-get l :line)))
                (xref-make (trifecta--line-text file line cache)
                           (xref-make-file-location file line (max 0 (1- (plist-get l :column)))))))
            locations)))

(defun trifecta--show-locations (what root reply)
  "Show REPLY's locations for WHAT under ROOT.
Jump to a single definition, else list them in an xref buffer."
  (let ((locs (plist-get reply :locations)) (backend (trifecta--backend-text reply)))
    (cond
     ((null locs) (trifecta--fail "%s" (format "trifecta: no %s found — %s" what backend)))
     ((and (equal what "definition") (= (length locs) 1))
      (let ((l (car locs)))
        (trifecta--jump (trifecta--abs root (plist-get l :path)) (plist-get l :line)
                        (plist-get l :column))
        (trifecta--msg "trifecta: definition — %s" backend)))
     (t
      (let ((items (trifecta--xrefs root locs)))
        (funcall xref-show-xrefs-function (lambda () items)
                 `((window . ,(selected-window)) (display-action)))
        (let ((xbuf (get-buffer "*xref*")))
          (when xbuf
            (with-current-buffer xbuf
              (setq header-line-format (format " trifecta %s: %d — %s" what (length locs) backend)))))
        (trifecta--msg "trifecta: %d %s — %s" (length locs)
                       (if (equal what "definition") "definitions" what) backend))))))

(defun trifecta--navigate (method what)
  "Ask METHOD about point and show the locations as WHAT."
  (let ((root (trifecta-segment-root)))
    (trifecta-request method (append (trifecta--position-params)
                                     (list :wait_ready_ms trifecta-wait-ready-ms))
                      :timeout (+ trifecta-timeout (/ trifecta-wait-ready-ms 1000.0))
                      :on-result (lambda (r) (trifecta--ui #'trifecta--show-locations what root r))
                      :on-error (lambda (e) (trifecta--report what e)))))

;;;###autoload
(defun trifecta-definition ()
  "Jump to the definition of the name at point (Pyright when READY, else the AST)."
  (interactive)
  (trifecta--navigate "lsp.definition" "definition"))

;;;###autoload
(defun trifecta-references ()
  "List the references to the name at point in an xref buffer."
  (interactive)
  (trifecta--navigate "lsp.references" "references"))

(defun trifecta--hover-show (reply)
  "Show the hover REPLY in *trifecta-hover* and its first line in the echo area."
  (let ((contents (string-trim (or (plist-get reply :contents) "")))
        (backend (trifecta--backend-text reply)))
    (if (string-empty-p contents)
        (progn (trifecta--fail "%s" (format "trifecta: nothing to show here — %s" backend)))
      (with-current-buffer (get-buffer-create "*trifecta-hover*")
        (let ((inhibit-read-only t))
          (erase-buffer)
          (insert contents "\n")
          (special-mode)
          (setq header-line-format (format " trifecta hover — %s" backend))
          (goto-char (point-min))))
      (display-buffer "*trifecta-hover*" '(nil (inhibit-same-window . t)))
      (trifecta--msg "%s — %s" (trifecta--hover-summary contents) backend))))

(defun trifecta--hover-summary (contents)
  "One line of hover CONTENTS: its first code block (the signature), else line 1."
  (let ((text (if (string-match "```[a-z]*\n\\(\\(?:.\\|\n\\)*?\\)\n?```" contents)
                  (match-string 1 contents)
                (car (split-string contents "\n" t)))))
    (replace-regexp-in-string
     " \\([])]\\)" "\\1"
     (replace-regexp-in-string "\\([([]\\) " "\\1"
                               (replace-regexp-in-string "[ \t\n]+" " " (string-trim text))))))

;;;###autoload
(defun trifecta-hover ()
  "Show the signature and docstring of the name at point."
  (interactive)
  (trifecta-request "lsp.hover" (append (trifecta--position-params)
                                        (list :wait_ready_ms trifecta-wait-ready-ms))
                    :timeout (+ trifecta-timeout (/ trifecta-wait-ready-ms 1000.0))
                    :on-result (lambda (r) (trifecta--ui #'trifecta--hover-show r))
                    :on-error (lambda (e) (trifecta--report "hover" e))))

(defun trifecta--diagnostics-show (root file reply)
  "Show REPLY's diagnostics of FILE (segment ROOT) in a compilation-mode buffer."
  (let ((diags (plist-get reply :diagnostics)) (backend (trifecta--backend-text reply))
        (rel (file-relative-name file root)))
    (with-current-buffer (get-buffer-create "*trifecta-diagnostics*")
      (let ((inhibit-read-only t))
        (erase-buffer)
        (setq default-directory (file-name-as-directory root))
        (insert (format "trifecta diagnostics of %s — %s\n\n" rel backend))
        (dolist (d diags)
          (insert (format "%s:%d:%d: %s: %s%s\n" rel (plist-get d :line) (plist-get d :column)
                          (plist-get d :severity) (plist-get d :message)
                          (let ((c (plist-get d :code)) (s (plist-get d :source)))
                            (concat (if (and c (not (equal c ""))) (format " [%s]" c) "")
                                    (if (and s (not (equal s ""))) (format " (%s)" s) ""))))))
        (insert (format "\n%d diagnostic%s\n" (length diags) (if (= (length diags) 1) "" "s")))
        (compilation-mode)
        (goto-char (point-min))))
    (display-buffer "*trifecta-diagnostics*" '(nil (inhibit-same-window . t)))
    (trifecta--msg "trifecta: %d diagnostic%s — %s" (length diags) (if (= (length diags) 1) "" "s")
                   backend)))

;;;###autoload
(defun trifecta-diagnostics ()
  "Show the diagnostics of the current file.
They come from Pyright when READY, else they are the syntax errors."
  (interactive)
  (let ((root (trifecta-segment-root)) (file (trifecta--file)))
    (trifecta-request "lsp.diagnostics" (list :segment root :path file
                                              :wait_ready_ms trifecta-wait-ready-ms)
                      :timeout (+ trifecta-timeout (/ trifecta-wait-ready-ms 1000.0))
                      :on-result (lambda (r) (trifecta--ui #'trifecta--diagnostics-show root file r))
                      :on-error (lambda (e) (trifecta--report "diagnostics" e)))))

;;;; Budgeted context

(defun trifecta--default-context-target ()
  "The sym:// URI of the current file's module, the file itself, or nil.
A Python file gives its module's URI; any other file of the project its
segment-relative path (`ctx.get' takes files since protocol 1.5)."
  (when buffer-file-name
    (let* ((root (trifecta-segment-root)) (rel (file-relative-name (trifecta--file) root)))
      (unless (string-prefix-p "../" rel)
        (if (string-suffix-p ".py" rel)
            (concat "sym://python/" (trifecta--module-of rel))
          rel)))))

(defun trifecta--context-show (target reply)
  "Put the `ctx.get' REPLY for TARGET into *trifecta-context* and show it."
  (let ((buf (get-buffer-create "*trifecta-context*")))
    (with-current-buffer buf
      (erase-buffer)
      (insert (format "# trifecta context: %s — mode %s, %d of %d tokens, %s\n"
                      target (plist-get reply :mode) (plist-get reply :used)
                      (plist-get reply :budget) (plist-get reply :stop_reason)))
      (dolist (c (plist-get reply :chunks))
        (insert (format "\n## %s:%d-%d %s (%s%s)\n" (plist-get c :path) (plist-get c :start_line)
                        (plist-get c :end_line) (or (plist-get c :title) "")
                        (plist-get c :mode)
                        (if (plist-get c :partial) ", partial" ""))
                (or (plist-get c :text) "")))
      (dolist (e (plist-get reply :errors))
        (insert (format "\n# not found: %s\n" (trifecta--json-encode e))))
      (when (plist-get reply :next)
        (insert "\n# more: the budget ran out (raise it with C-u M-x trifecta-context)\n"))
      (goto-char (point-min))
      (when (fboundp 'text-mode) (text-mode)))
    (pop-to-buffer buf)
    (trifecta--msg "trifecta: %d tokens of %d (%s) in *trifecta-context*" (plist-get reply :used)
                   (plist-get reply :budget) (plist-get reply :stop_reason))))

;;;###autoload
(defun trifecta-context (target &optional mode budget)
  "Put `ctx.get' output for TARGET into *trifecta-context*.
The buffer is ready to paste into a chat.  TARGET is a sym:// URI, a chunk
id from a search (`path#Title') or a file of the project (the whole file); by
default the current file's module, or the current file when it is not
Python.  MODE \(skeleton, excerpt, raw) and BUDGET (tokens) default to
`trifecta-context-mode' and `trifecta-budget'; a prefix argument prompts for
them."
  (interactive
   (let ((default (trifecta--default-context-target)))
     (list (read-string (format "trifecta context (sym:// URI, chunk id or file)%s: "
                                (if default (format " [%s]" default) ""))
                        nil nil default)
           (and current-prefix-arg
                (completing-read "Mode: " '("skeleton" "excerpt" "raw") nil t nil nil
                                 trifecta-context-mode))
           (and current-prefix-arg (read-number "Budget (tokens): " trifecta-budget)))))
  (when (or (null target) (string-empty-p target))
    (user-error "trifecta: no target (give a sym:// URI, a chunk id or a file)"))
  (let ((root (trifecta-segment-root)) (mode (or mode trifecta-context-mode))
        (budget (or budget trifecta-budget)))
    (trifecta-request "ctx.get"
                      (append (list :segment root :mode mode :budget budget)
                              (if (string-prefix-p "sym://" target)
                                  (list :uris (vector target))
                                (list :ids (vector target))))
                      :on-result (lambda (r) (trifecta--ui #'trifecta--context-show target r))
                      :on-error (lambda (e) (trifecta--report "context" e)))))

;;;; Status and the mode-line lighter

(defvar trifecta--status (make-hash-table :test 'equal)
  "Segment root -> plist (:daemon BOOL :index STATE :lsp STATE :done N :total M).")
(defvar trifecta--segment-ids (make-hash-table :test 'equal) "segment_id -> root.")
(defvar trifecta--building (make-hash-table :test 'equal) "Roots with a ctx.build in flight.")
(defvar trifecta--poll-timer nil "The next status poll.")
(defvar trifecta--poll-interval 1.0 "The current poll interval (backs off while idle).")
(defvar trifecta--poll-busy nil "Non-nil while a poll waits for its reply.")
(defvar trifecta-status-functions nil
  "Hook run with (ROOT STATUS-STRING) whenever a segment's status string changes.")

(defun trifecta-status-string (&optional root)
  "The status of ROOT (default: the current buffer's segment) as in the lighter."
  (let ((st (gethash (or root (trifecta-segment-root)) trifecta--status)))
    (cond
     ((null st) "trifecta")
     ((not (plist-get st :daemon)) "trifecta: off")
     ((equal (plist-get st :index) "building")
      (let ((done (plist-get st :done)) (total (plist-get st :total)))
        (if (and done total (> total 0))
            (format "trifecta: index building %d%%" (floor (* 100.0 done) total))
          "trifecta: index building")))
     ((equal (plist-get st :index) "failed") "trifecta: index FAILED")
     (t (pcase (plist-get st :lsp)
          ("UNAVAILABLE" "trifecta: AST")
          ("FAILED" "trifecta: LSP FAILED")
          ((pred null) "trifecta: opening")
          (s (concat "trifecta: " s)))))))

(defun trifecta--mode-line ()
  "The lighter of `trifecta-mode' for the current buffer."
  (if (or buffer-file-name (derived-mode-p 'dired-mode))
      ;; `%' is a mode-line construct: "42%" must be written "42%%".
      (concat " " (string-replace "%" "%%" (trifecta-status-string)))
    ""))

(defun trifecta--set-status (root plist)
  "Merge PLIST into ROOT's status; return non-nil when its string changed."
  (let ((before (trifecta-status-string root)) (st (gethash root trifecta--status)))
    (while plist
      (setq st (plist-put st (car plist) (cadr plist)) plist (cddr plist)))
    (puthash root st trifecta--status)
    (let ((after (trifecta-status-string root)))
      (unless (equal before after)
        (force-mode-line-update t)
        (run-hook-with-args 'trifecta-status-functions root after)
        t))))

(defun trifecta--on-progress (segment-id done total)
  "Record build progress DONE of TOTAL for SEGMENT-ID (from `ctx.progress')."
  (let ((root (gethash segment-id trifecta--segment-ids)))
    (when root
      (trifecta--set-status root (list :index "building" :done done :total total)))))

(defun trifecta--watch-build (root)
  "Follow ROOT's running index build through `ctx.build' progress notifications."
  (unless (gethash root trifecta--building)
    (puthash root t trifecta--building)
    (trifecta-request "ctx.build" (list :segment root) :timeout 0 :no-start t
                      :on-result (lambda (_)
                                   (remhash root trifecta--building)
                                   (trifecta--set-status root (list :index "ready"))
                                   (trifecta--poll-soon))
                      :on-error (lambda (_) (remhash root trifecta--building)))))

(defun trifecta--poll-root ()
  "The segment whose status the lighter shows: the selected window's buffer's."
  (let ((buf (window-buffer (selected-window))))
    (when (buffer-local-value 'buffer-file-name buf)
      (condition-case nil (trifecta-segment-root buf) (error nil)))))

(defun trifecta--poll ()
  "Poll the daemon's state for the selected buffer's segment.
Then schedule the next poll."
  (setq trifecta--poll-timer nil)
  (let ((root (trifecta--poll-root)))
    (if (or (null root) trifecta--poll-busy)
        (trifecta--schedule-poll nil)
      (setq trifecta--poll-busy t)
      (trifecta-request
       "status" nil :no-start (not trifecta-poll-starts-daemon) :timeout 5
       :on-result
       (lambda (r)
         (setq trifecta--poll-busy nil)
         (let ((seg (cl-find root (plist-get r :segments)
                             :key (lambda (s) (plist-get s :root)) :test #'equal))
               changed)
           (dolist (s (plist-get r :segments))
             (puthash (plist-get s :segment_id) (plist-get s :root) trifecta--segment-ids))
           (if (null seg)
               ;; Not open yet: opening it starts its index build and Pyright warm-up.
               (progn
                 (setq changed (trifecta--set-status root (list :daemon t :index nil :lsp nil)))
                 (trifecta-request "lsp.status" (list :segment root) :no-start t
                                   :on-result (lambda (_) (trifecta--poll-soon))
                                   :on-error #'ignore))
             (setq changed (trifecta--set-status
                            root (list :daemon t :index (plist-get seg :state)
                                       :lsp (plist-get seg :lsp_state))))
             (when (equal (plist-get seg :state) "building") (trifecta--watch-build root)))
           (trifecta--schedule-poll
            (or changed (equal (plist-get seg :state) "building")
                (member (plist-get seg :lsp_state) '("WARMING" "COLD"))))))
       :on-error
       (lambda (_)
         (setq trifecta--poll-busy nil)
         (trifecta--schedule-poll (trifecta--set-status root (list :daemon nil))))))))

(defun trifecta--schedule-poll (active)
  "Schedule the next poll: soon when ACTIVE (something changes), else back off."
  (when trifecta-mode
    (setq trifecta--poll-interval
          (if active trifecta-status-min-interval
            (min trifecta-status-max-interval (* 2 trifecta--poll-interval))))
    (when trifecta--poll-timer (cancel-timer trifecta--poll-timer))
    (setq trifecta--poll-timer (run-at-time trifecta--poll-interval nil #'trifecta--poll))))

(defun trifecta--poll-soon ()
  "Poll again shortly (after a command, a switch of buffer, or a finished build)."
  (when trifecta-mode
    (setq trifecta--poll-interval trifecta-status-min-interval)
    (when trifecta--poll-timer (cancel-timer trifecta--poll-timer))
    (setq trifecta--poll-timer (run-at-time 0.1 nil #'trifecta--poll))))

(defvar trifecta--last-poll-root nil "The segment polled for last.")

(defun trifecta--on-buffer-change (&rest _)
  "Poll at once when the selected buffer belongs to another segment."
  (let ((root (trifecta--poll-root)))
    (when (and root (not (equal root trifecta--last-poll-root)))
      (setq trifecta--last-poll-root root)
      (trifecta--poll-soon))))

;;;###autoload
(define-minor-mode trifecta-mode
  "Show the daemon, index and language-server state in the mode line.
The lighter shows the state of the selected buffer's project.  It is polled
without blocking: every `trifecta-status-min-interval' seconds while it
changes, backing off up to `trifecta-status-max-interval' while it does not."
  :global t
  :group 'trifecta
  :lighter (:eval (trifecta--mode-line))
  (if trifecta-mode
      (progn
        (add-hook 'trifecta-progress-functions #'trifecta--on-progress)
        (add-hook 'window-buffer-change-functions #'trifecta--on-buffer-change)
        (add-hook 'window-selection-change-functions #'trifecta--on-buffer-change)
        (trifecta--poll-soon))
    (remove-hook 'trifecta-progress-functions #'trifecta--on-progress)
    (remove-hook 'window-buffer-change-functions #'trifecta--on-buffer-change)
    (remove-hook 'window-selection-change-functions #'trifecta--on-buffer-change)
    (when trifecta--poll-timer (cancel-timer trifecta--poll-timer))
    (setq trifecta--poll-timer nil trifecta--poll-busy nil)))

;;;###autoload
(defun trifecta-status ()
  "Show the daemon's state and that of the current buffer's segment."
  (interactive)
  (let ((root (trifecta-segment-root)))
    (trifecta-request
     "status" nil
     :on-result
     (lambda (r)
       (let ((seg (cl-find root (plist-get r :segments) :key (lambda (s) (plist-get s :root))
                           :test #'equal)))
         (trifecta--msg "trifectad %s (pid %s, up %.0f s): %s"
                        (plist-get r :daemon_version) (plist-get r :pid) (plist-get r :uptime_s)
                        (if seg (format "%s — index %s, lsp %s" root (plist-get seg :state)
                                        (plist-get seg :lsp_state))
                          (format "%s is not open" root)))))
     :on-error (lambda (e) (trifecta--report "status" e)))))

(provide 'trifecta)
;;; trifecta.el ends here
