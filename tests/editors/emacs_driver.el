;;; emacs_driver.el --- Drive fim-lsp.el in `emacs --batch' for test_emacs.py  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/editors/test_emacs.py as
;;
;;   emacs --batch -Q -l emacs_driver.el -f fim-test-main
;;
;; Everything comes from environment variables:
;;
;;   FIM_TEST_CLIENT     "eglot" or "lsp-mode"
;;   FIM_TEST_LOAD_PATH  folder holding fim-lsp.el
;;   FIM_TEST_COMMAND    JSON list: the command that starts fim-lsp
;;   FIM_TEST_SETTINGS   JSON object: `fim-lsp-settings'
;;   FIM_TEST_WORKSPACE  JSON object: Eglot's `eglot-workspace-configuration'
;;   FIM_TEST_FILE       the file to open
;;   FIM_TEST_LINE       1-based line of the cursor
;;   FIM_TEST_COLUMN     0-based column (characters) of the cursor
;;   FIM_TEST_ACCEPT     "completion-at-point" (default) or "select"
;;   FIM_TEST_PICK       with "select": the candidate to pick (default: the first)
;;   FIM_TEST_EGLOT_CONTACT  JSON list: an Eglot contact to use instead of
;;                       `fim-lsp-eglot-setup' (for a multiplexer in front)
;;   FIM_TEST_CHECK      when set: run `fim-lsp-check' instead of completing
;;   FIM_TEST_OUT        where to write the JSON result
;;
;; The result: {"candidates": [...], "buffer": "...", "line": "...",
;; "registered": bool, ...}; errors end the run with a non-zero exit.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'package)

(defvar eglot-sync-connect)
(defvar eglot-connect-timeout)
(defvar eglot-workspace-configuration)
(defvar eglot-server-programs)
(defvar lsp-session-file)
(defvar lsp-auto-guess-root)
(defvar lsp-enable-file-watchers)
(defvar lsp-headerline-breadcrumb-enable)
(defvar lsp-modeline-code-actions-enable)
(defvar lsp-modeline-diagnostics-enable)
(defvar lsp-enable-snippet)
(defvar lsp-log-io)
(defvar lsp-restart)
(defvar lsp-keep-workspace-alive)
(defvar lsp-clients)
(defvar lsp-completion-provider)
(defvar fim-lsp-command)
(defvar fim-lsp-settings)
(defvar fim-lsp-status)
(defvar fim-lsp--mode-line-entry)
(declare-function eglot "ext:eglot")
(declare-function eglot--guess-contact "ext:eglot")
(declare-function eglot-current-server "ext:eglot")
(declare-function eglot-completion-at-point "ext:eglot")
(declare-function eglot-shutdown "ext:eglot")
(declare-function fim-lsp-eglot-setup "fim-lsp")
(declare-function fim-lsp-lsp-mode-setup "fim-lsp")
(declare-function fim-lsp--lsp-buffer-served-p "fim-lsp")
(declare-function fim-lsp-check "fim-lsp")
(declare-function lsp "ext:lsp-mode")
(declare-function lsp-workspaces "ext:lsp-mode")
(declare-function lsp--workspace-status "ext:lsp-mode")
(declare-function lsp-workspace-folders-add "ext:lsp-mode")
(declare-function lsp-completion-at-point "ext:lsp-completion")
(declare-function lsp-workspace-shutdown "ext:lsp-mode")
(declare-function lsp-configuration-section "ext:lsp-mode")

(defun fim-test--env (name &optional default)
  "Return the environment variable NAME, or DEFAULT, or fail."
  (or (getenv name) default (error "Missing environment variable %s" name)))

(defun fim-test--json (name &optional default)
  "Return the environment variable NAME parsed as JSON (objects as plists)."
  (let ((json-object-type 'plist)
        (json-array-type 'list)
        (json-key-type 'keyword)
        (raw (getenv name)))
    (if raw (json-read-from-string raw) default)))

(defun fim-test--wait (predicate timeout what)
  "Process output until PREDICATE is non-nil; fail after TIMEOUT seconds on WHAT."
  (let ((deadline (+ (float-time) timeout)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall predicate) (error "Timed out waiting for %s" what))))

(defun fim-test--accept ()
  "Return how to accept the completion, from FIM_TEST_ACCEPT."
  (intern (fim-test--env "FIM_TEST_ACCEPT" "completion-at-point")))

(defun fim-test--open-at-cursor ()
  "Visit FIM_TEST_FILE and put point at FIM_TEST_LINE / FIM_TEST_COLUMN."
  (find-file (fim-test--env "FIM_TEST_FILE"))
  (goto-char (point-min))
  (forward-line (1- (string-to-number (fim-test--env "FIM_TEST_LINE"))))
  (forward-char (string-to-number (fim-test--env "FIM_TEST_COLUMN"))))

(defun fim-test--candidates (capf)
  "Return the candidates of the completion-at-point result CAPF."
  (pcase-let ((`(,beg ,end ,table . ,_) capf))
    (mapcar #'substring-no-properties
            (all-completions (buffer-substring-no-properties beg end) table))))

(defun fim-test--select (capf)
  "Insert a candidate of CAPF the way Company and Corfu do.
The candidate is the one named by FIM_TEST_PICK, else the first.
Company and Corfu replace the completion region with the candidate,
then call the exit function with status `finished'."
  (pcase-let* ((`(,beg ,end ,table . ,props) capf)
               (candidates (all-completions
                            (buffer-substring-no-properties beg end) table))
               (pick (getenv "FIM_TEST_PICK"))
               (candidate (if pick
                              (or (car (member pick candidates))
                                  (error "No candidate %S in %S" pick candidates))
                            (car candidates)))
               (exit-function (plist-get props :exit-function)))
    (delete-region beg end)
    (goto-char beg)
    (insert candidate)
    (when exit-function
      (funcall exit-function candidate 'finished))))

(defun fim-test--complete (capf-function accept)
  "Get candidates from CAPF-FUNCTION and accept the first; return a result alist.
ACCEPT is `completion-at-point' to run that command (Emacs's own
UI, which inserts a sole candidate), or `select' to pick the first
candidate as a completion popup does."
  (let* ((capf (funcall capf-function))
         (candidates (and capf (fim-test--candidates capf)))
         (completion-at-point-functions (list capf-function)))
    (unless candidates
      (error "No completion candidates"))
    (pcase accept
      ('completion-at-point (completion-at-point))
      ('select (fim-test--select (funcall capf-function))))
    ;; The status after an answer carries its latency and source (sent a moment later).
    (ignore-errors
      (fim-test--wait (lambda () (plist-get fim-lsp-status :latency)) 5 "the latency"))
    `((candidates . ,(vconcat candidates))
      (status . ,(plist-get fim-lsp-status :state))
      ;; `format-mode-line' gives "" in batch: the entry fim-lsp.el put in the mode line, evaluated.
      (mode-line . ,(if (member fim-lsp--mode-line-entry global-mode-string)
                        (eval (cadr (cadr fim-lsp--mode-line-entry)) t)
                      "(not in global-mode-string)"))
      (buffer . ,(buffer-substring-no-properties (point-min) (point-max)))
      (line . ,(buffer-substring-no-properties (line-beginning-position)
                                               (line-end-position)))
      (point . ,(point)))))

(defun fim-test--check ()
  "Run `fim-lsp-check' and return what its buffer shows, with each line's face."
  (let* ((buffer (fim-lsp-check))
         (lines (with-current-buffer buffer
                  (goto-char (point-min))
                  (cl-loop until (eobp)
                           collect (let ((text (buffer-substring (line-beginning-position)
                                                                 (line-end-position))))
                                     (vector (substring-no-properties text)
                                             (let ((face (and (> (length text) 0)
                                                              (get-text-property 0 'face text))))
                                               (if face (symbol-name face) ""))))
                           do (forward-line 1)))))
    `((check-buffer . ,(buffer-name buffer))
      (check-lines . ,(vconcat lines))
      (check-mode . ,(symbol-name (buffer-local-value 'major-mode buffer))))))

(defun fim-test--complete-or-check (capf-function accept)
  "Check the setup when FIM_TEST_CHECK is set, else complete with CAPF-FUNCTION and ACCEPT."
  (if (getenv "FIM_TEST_CHECK")
      (fim-test--check)
    (fim-test--complete capf-function accept)))

(defun fim-test--setup-common ()
  "Load fim-lsp.el and configure it from the environment."
  (add-to-list 'load-path (fim-test--env "FIM_TEST_LOAD_PATH"))
  (require 'fim-lsp)
  (setq fim-lsp-command (fim-test--json "FIM_TEST_COMMAND"))
  (setq fim-lsp-settings (fim-test--json "FIM_TEST_SETTINGS")))

(defun fim-test--eglot ()
  "Connect Eglot to fim-lsp, complete at point and return the result."
  (require 'eglot)
  (fim-test--setup-common)
  (let ((contact (fim-test--json "FIM_TEST_EGLOT_CONTACT")))
    (if contact
        (add-to-list 'eglot-server-programs (cons '(python-mode) contact))
      (fim-lsp-eglot-setup '(python-mode))))
  (setq eglot-sync-connect t
        eglot-connect-timeout 30)
  (setq-default eglot-workspace-configuration
                (fim-test--json "FIM_TEST_WORKSPACE"))
  (fim-test--open-at-cursor)
  (apply #'eglot (eglot--guess-contact))
  (fim-test--wait #'eglot-current-server 30 "Eglot to connect")
  (prog1 (fim-test--complete-or-check #'eglot-completion-at-point (fim-test--accept))
    (eglot-shutdown (eglot-current-server))))

(defun fim-test--lsp-mode ()
  "Start fim-lsp through lsp-mode, complete at point and return the result."
  (require 'lsp-mode)
  (require 'lsp-completion)
  (setq lsp-session-file (expand-file-name "lsp-session" temporary-file-directory)
        lsp-auto-guess-root nil
        lsp-enable-file-watchers nil
        lsp-headerline-breadcrumb-enable nil
        lsp-modeline-code-actions-enable nil
        lsp-modeline-diagnostics-enable nil
        lsp-enable-snippet nil
        lsp-restart 'ignore
        lsp-keep-workspace-alive nil
        lsp-log-io t
        lsp-completion-provider :capf)
  (fim-test--setup-common)
  (fim-lsp-lsp-mode-setup)
  (let ((registered (and (gethash 'fim-lsp lsp-clients) t)))
    (fim-test--open-at-cursor)
    (lsp-workspace-folders-add (file-name-directory (buffer-file-name)))
    (lsp)
    (fim-test--wait (lambda ()
                      (cl-some (lambda (w) (eq (lsp--workspace-status w) 'initialized))
                               (lsp-workspaces)))
                    30 "lsp-mode to initialize fim-lsp")
    (let ((served (fim-lsp--lsp-buffer-served-p)))
      (prog1 (append `((registered . ,(if registered t :json-false))
                       (served . ,(if served t :json-false))
                       (section . ,(lsp-configuration-section "fimLsp")))
                     (fim-test--complete-or-check #'lsp-completion-at-point
                                                  (fim-test--accept)))
        (lsp-workspace-shutdown (car (lsp-workspaces)))))))

(defun fim-test-main ()
  "Run the client named by FIM_TEST_CLIENT and write the result to FIM_TEST_OUT."
  (package-initialize)
  (let* ((client (fim-test--env "FIM_TEST_CLIENT"))
         (result (pcase client
                   ("eglot" (fim-test--eglot))
                   ("lsp-mode" (fim-test--lsp-mode))
                   (_ (error "Unknown client %s" client)))))
    (with-temp-file (fim-test--env "FIM_TEST_OUT")
      (insert (json-encode result)))))

(provide 'emacs_driver)
;;; emacs_driver.el ends here
