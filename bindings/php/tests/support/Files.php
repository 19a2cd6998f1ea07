<?php

declare(strict_types=1);

namespace VodUpload\Tests;

/** Temporary files and directories, removed when the test process ends. */
final class Files
{
    /** @var list<string> */
    private static array $created = [];

    public static function tempDir(string $prefix): string
    {
        $dir = sys_get_temp_dir() . "/vodupload-php-$prefix-" . getmypid() . '-' . bin2hex(random_bytes(4));
        if (!mkdir($dir, 0700, true)) {
            throw new \RuntimeException("cannot create $dir");
        }
        if (self::$created === []) {
            register_shutdown_function([self::class, 'cleanUp']);
        }
        self::$created[] = $dir;
        return $dir;
    }

    /** A new file of `$size` random bytes (so never already on the service), named `$name`. */
    public static function random(int $size, string $name = 'video.mp4'): string
    {
        $path = self::tempDir('file') . '/' . $name;
        $f = fopen($path, 'wb');
        for ($left = $size; $left > 0; $left -= 65536) {
            fwrite($f, random_bytes(min(65536, $left)));
        }
        fclose($f);
        return $path;
    }

    public static function cleanUp(): void
    {
        foreach (self::$created as $dir) {
            self::remove($dir);
        }
        self::$created = [];
    }

    private static function remove(string $path): void
    {
        if (is_dir($path) && !is_link($path)) {
            foreach (scandir($path) ?: [] as $entry) {
                if ($entry !== '.' && $entry !== '..') {
                    self::remove("$path/$entry");
                }
            }
            @rmdir($path);
        } else {
            @unlink($path);
        }
    }
}
