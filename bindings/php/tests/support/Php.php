<?php

declare(strict_types=1);

namespace VodUpload\Tests;

/** Runs PHP code in a child process (for what one process can do only once: loading the library, preloading). */
final class Php
{
    /**
     * @param list<string>          $iniArgs e.g. ['-d', 'ffi.enable=0']
     * @param array<string, ?string> $env    variables to set (on top of this process's); null values unset
     * @param list<string>          $prefix  a command to run PHP with (e.g. setpriv ...)
     * @return array{int, string, string} exit status, stdout, stderr
     */
    public static function run(string $code, array $iniArgs = [], array $env = [], array $prefix = []): array
    {
        $dir = Files::tempDir('php');
        chmod($dir, 0755);
        $script = "$dir/script.php";
        file_put_contents($script, $code);
        chmod($script, 0644);
        $environment = array_filter(array_merge(getenv(), $env), fn ($v) => $v !== null);
        $process = proc_open([...$prefix, PHP_BINARY, ...$iniArgs, $script], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $environment);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($process), (string) $out, (string) $err];
    }

    /** PHP code that loads the package (its own autoload.php, as a user without Composer would). */
    public static function prelude(): string
    {
        return "<?php\ndeclare(strict_types=1);\nrequire " . var_export(dirname(__DIR__, 2) . '/autoload.php', true) . ";\n";
    }
}
